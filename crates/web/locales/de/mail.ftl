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
