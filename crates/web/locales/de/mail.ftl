# Erinnerungs-E-Mails, Deutsch. Dieselben Meldungen in derselben Reihenfolge wie die englische Datei.
reminder-subject-enrol = Bitte registrieren Sie sich für das Zurücksetzen des Passworts per Telefon
reminder-subject-reconfirm = Bitte bestätigen Sie Ihre Sicherheitsantworten
reminder-greeting = Hallo { $name },
reminder-enrol = Sie haben Ihre Sicherheitsfragen noch nicht gewählt. Mit ihnen können Sie ein vergessenes Passwort jederzeit selbst per Telefon zurücksetzen oder Ihr Konto entsperren.
reminder-reconfirm = Ihre Sicherheitsantworten müssen bestätigt werden. Bis Sie sie bestätigen, verbindet Sie das Zurücksetzen per Telefon mit dem Helpdesk.
reminder-sign-in = Melden Sie sich unter { $url } mit dem Passwort Ihres Arbeitskontos an.
reminder-choose = { $count ->
    [one] Wählen Sie eine Frage und geben Sie Ihre Antwort zweimal ein. Das dauert zwei Minuten.
   *[other] Wählen Sie { $count } Fragen und geben Sie jede Antwort zweimal ein. Das dauert zwei Minuten.
}
reminder-reconfirm-how = Geben Sie Ihre Antworten erneut ein, oder wählen Sie neue.
reminder-no-computer = Kein Computer zur Hand? Der Helpdesk gibt Ihnen eine PIN, mit der Sie sich per Telefon registrieren.
reminder-footer = Dies ist eine automatische Nachricht des Dienstes zum Zurücksetzen von Passwörtern; bitte antworten Sie nicht. Niemand wird Sie je nach Ihrem Passwort oder Ihren Antworten fragen, weder per E-Mail noch am Telefon.
# Benachrichtigungen darüber, was mit den Konten einer Person geschah.
notice-subject-reset = Ihr Passwort wurde zurückgesetzt
notice-subject-reset-failed = Das Zurücksetzen Ihres Passworts wurde nicht abgeschlossen
notice-subject-unlock = Ihr Konto wurde entsperrt
notice-subject-lockout = Ihr Konto wurde nach Fehlversuchen gesperrt
notice-subject-verify-failure = Jemand konnte sich nicht als Sie ausweisen
notice-greeting = Hallo { $name },
notice-reset = Ihr Passwort wurde am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} zurückgesetzt.
notice-reset-failed = das Zurücksetzen Ihres Passworts wurde am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} begonnen, aber nicht abgeschlossen.
notice-unlock = Ihr Konto wurde am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} entsperrt.
notice-lockout = nach wiederholten Fehlversuchen, sich { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} als Sie auszuweisen, hat der Dienst zum Zurücksetzen von Passwörtern Ihr Konto am { $time } für sich gesperrt.
notice-lockout-until = Die Sperre endet am { $time }; bis dahin kann der Helpdesk sie aufheben.
notice-lockout-indefinite = Die Sperre bleibt, bis der Helpdesk sie aufhebt.
notice-verify-failure = jemand hat am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} vergeblich versucht, sich als Sie auszuweisen.
notice-systems = Systeme:
notice-system-done = { $target } ({ $account }): erledigt
notice-system-failed = { $target } ({ $account }): nicht geändert
notice-system-unknown = { $target } ({ $account }): nicht bestätigt: der Dienst wurde während der Änderung beendet. Versuchen Sie es erneut oder rufen Sie den Helpdesk an.
notice-not-you = Wenn Sie das nicht waren, rufen Sie sofort den Helpdesk an: Jemand kennt vielleicht Ihre Antworten.
notice-was-you = Wenn Sie es waren, ist nichts weiter zu tun.
notice-footer = Dies ist eine automatische Nachricht des Dienstes zum Zurücksetzen von Passwörtern; bitte antworten Sie nicht. Sie enthält nie ein Passwort. Niemand wird Sie je nach Ihrem Passwort oder Ihren Antworten fragen, weder per E-Mail noch am Telefon.
# Benachrichtigungen an Administratoren über eine privilegierte Person.
notice-admin-subject-reset = Privilegiertes Konto { $id }: Passwort zurückgesetzt
notice-admin-subject-unlock = Privilegiertes Konto { $id }: entsperrt
notice-admin-subject-lockout = Privilegiertes Konto { $id }: gesperrt
notice-admin-greeting = Hallo,
notice-admin-reset = das Passwort von { $name } ({ $id }), einem privilegierten Konto, wurde am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} zurückgesetzt.
notice-admin-unlock = die Konten von { $name } ({ $id }), einem privilegierten Konto, wurden am { $time } { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} entsperrt.
notice-admin-lockout = { $name } ({ $id }), ein privilegiertes Konto, wurde am { $time } nach wiederholten Fehlversuchen, sich { $door ->
    [portal] im Self-Service-Portal
   *[other] per Telefon
} als diese Person auszuweisen, gesperrt.
notice-admin-check = Fragen Sie bei { $name } nach, ob es diese Person war; wenn nicht, behandeln Sie es als Angriff auf ein privilegiertes Konto.
