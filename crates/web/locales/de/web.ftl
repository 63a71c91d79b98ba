# touchtone's pages, German. Same messages as the English file, in the same order.
app-name = touchtone
skip-to-content = Zum Inhalt springen
nav-label = Sprache und Konto
signed-in-as = Angemeldet als { $name }
sign-out = Abmelden
footer = Ihre Antworten werden nur als Tastenziffern und verschlüsselt gespeichert. Niemand kann sie lesen, auch der Helpdesk nicht.
back-home = Zurück zu Ihrem Status
error-forbidden-title = Nicht erlaubt
error-forbidden = Das Formular kam nicht von dieser Seite oder ist zu alt. Es wurde nichts geändert. Laden Sie die Seite neu und versuchen Sie es noch einmal.
error-not-found-title = Seite nicht gefunden
error-not-found = Unter dieser Adresse gibt es keine Seite.
error-unavailable-title = Bitte versuchen Sie es noch einmal
error-unavailable = Bei uns ist etwas schiefgegangen. Es wurde nichts geändert. Bitte versuchen Sie es in einer Minute noch einmal.
sign-in-title = Anmelden
sign-in-intro = Melden Sie sich mit Ihrer Benutzerkennung und dem Passwort Ihres Arbeitskontos an.
sign-in-help = Wenn Sie sich nicht anmelden können, rufen Sie die Passwort-Hotline oder den Helpdesk an.
sign-in-ended = Sie wurden abgemeldet. Bitte melden Sie sich erneut an.
sign-in-refused = Benutzerkennung oder Passwort stimmen nicht.
sign-in-throttled = Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut.
field-login = Benutzerkennung
field-password = Passwort
sign-in = Anmelden
status-title = Ihr Status für das Zurücksetzen per Telefon
enrolled-now = Ihre Antworten sind hinterlegt.
enrolment-heading = Sicherheitsfragen
enrolment-complete = { $count ->
    [one] Sie sind registriert: { $count } Frage ist beantwortet. Sie können Ihr Passwort per Telefon zurücksetzen.
   *[other] Sie sind registriert: { $count } Fragen sind beantwortet. Sie können Ihr Passwort per Telefon zurücksetzen.
}
enrolment-missing = { $count ->
    [one] Sie sind noch nicht registriert: Beantworten Sie noch { $count } Frage, um Ihr Passwort per Telefon zurückzusetzen.
   *[other] Sie sind noch nicht registriert: Beantworten Sie noch { $count } Fragen, um Ihr Passwort per Telefon zurückzusetzen.
}
enrolment-reconfirm = Einige Ihrer Antworten sind alt. Bitte hinterlegen Sie sie erneut.
questions-caption = Die Fragen, die Sie beantwortet haben
col-question = Frage
col-enrolled = Beantwortet am
own-question-tag = Ihre eigene Frage
stale-tag = bitte erneuern
enrol-answers = Antworten hinterlegen
change-answers = Antworten ändern
phones-heading = Telefonnummern
phones-none = Für Sie ist keine Telefonnummer hinterlegt.
phones-caption = Ihre Telefonnummern
col-number = Nummer
col-source = Herkunft
phone-registered = von Ihnen registriert am { $when }
phone-from-directory = aus dem Firmenverzeichnis
accounts-heading = Ihre Konten
accounts-none = Für Sie sind keine Konten bekannt.
accounts-caption = Die Systeme, auf denen Ihr Passwort zurückgesetzt wird
col-system = System
col-account = Konto
activity-heading = Letzte Aktivitäten
activity-intro = Was zuletzt mit Ihrer Identität geschah. Wenn Sie etwas sehen, das Sie nicht getan haben, rufen Sie den Helpdesk an.
activity-none = Bisher ist nichts geschehen.
activity-caption = Letzte Aktivitäten zu Ihrer Identität, neueste zuerst
col-when = Wann
col-what = Was
col-door = Wie
col-from = Von Nummer
activity-reset-ok = Passwort zurückgesetzt auf { $target }
activity-reset-failed = Zurücksetzen fehlgeschlagen auf { $target }
activity-unlock-ok = Konto entsperrt auf { $target }
activity-unlock-failed = Entsperren fehlgeschlagen auf { $target }
activity-verify-failed = Falsche Antworten oder falsches Passwort
activity-lockout = Gesperrt nach zu vielen Fehlversuchen
activity-lockout-cleared = Sperre vom Helpdesk aufgehoben
activity-enrolment = Antworten geändert
activity-sign-in = Auf dieser Seite angemeldet
activity-other = Andere Aktivität
door-api = externer Dienst
door-phone = Telefon
door-portal = diese Seite
answers-title = Ihre Sicherheitsfragen
answers-intro = { $count ->
    [one] Wählen Sie { $count } Frage und geben Sie die Antwort zweimal ein.
   *[other] Wählen Sie { $count } verschiedene Fragen und geben Sie jede Antwort zweimal ein.
}
answers-rules = Am Telefon tippen Sie Ihre Antworten auf der Tastatur: Buchstaben werden zu Ziffern (A, B und C sind die 2 und so weiter). Eine Antwort darf nicht zu kurz sein, nicht aus einer wiederholten Ziffer bestehen, keine Folge wie 1234 sein, nicht Ihre Benutzerkennung und nicht gleich einer anderen Antwort.
answers-problems = { $count ->
    [one] Eine Antwort muss geändert werden. Siehe den Hinweis daneben.
   *[other] { $count } Antworten müssen geändert werden. Siehe die Hinweise daneben.
}
slot-legend = Frage { $number }
field-question = Frage
choose-question = Wählen Sie eine Frage
own-question-option = Eigene Frage schreiben
field-own-question = Ihre eigene Frage (wenn oben gewählt)
field-answer = Antwort
field-answer-again = Antwort wiederholen
on-keypad-label = Auf der Tastatur:
hint-year = Eine Jahreszahl mit vier Ziffern, zum Beispiel 1956.
hint-digits = { $range } Ziffern auf der Tastatur.
enrol-submit = Diese Antworten hinterlegen
enrolled-keys-intro = Am Telefon tippen Sie diese Ziffern. Buchstaben wurden zu Ziffern; merken Sie sich das.
enrolled-keys-caption = Was Sie am Telefon tippen
col-keys = Tasten
reauth-heading = Bestätigen Sie, dass Sie es sind
reauth-intro = Um Ihre Antworten zu ändern, geben Sie Ihr Passwort noch einmal ein.
reauth-continue = Weiter
reauth-refused = Das Passwort stimmt nicht.
problem-no-question = Wählen Sie eine Frage.
problem-unknown-question = Diese Frage kann nicht gewählt werden.
problem-question-twice = Diese Frage ist zweimal gewählt. Wählen Sie eine andere.
problem-own-question = Schreiben Sie Ihre Frage (höchstens 200 Zeichen).
problem-mismatch = Die beiden Antworten sind verschieden. Geben Sie zweimal dieselbe Antwort ein.
problem-not-keyable = Die Antwort enthält keine Buchstaben oder Ziffern, die man am Telefon tippen kann.
problem-count = { $count ->
    [one] Beantworten Sie genau { $count } Frage.
   *[other] Beantworten Sie genau { $count } Fragen.
}
weak-too-short = { $min ->
    [one] Die Antwort muss mindestens { $min } Ziffer auf der Tastatur haben.
   *[other] Die Antwort muss mindestens { $min } Ziffern auf der Tastatur haben.
}
weak-too-long = { $max ->
    [one] Die Antwort darf höchstens { $max } Ziffer auf der Tastatur haben.
   *[other] Die Antwort darf höchstens { $max } Ziffern auf der Tastatur haben.
}
weak-repeated = Die Antwort ist eine wiederholte Ziffer. Wählen Sie etwas, das schwerer zu erraten ist.
weak-run = Die Antwort ist eine Ziffernfolge wie 1234. Wählen Sie etwas, das schwerer zu erraten ist.
weak-user-id = Die Antwort ist Ihre Benutzerkennung. Wählen Sie etwas, das nur Sie wissen.
weak-year = Geben Sie ein Jahr von { $range } an.
weak-same = Diese Antwort ergibt dieselben Ziffern wie eine andere. Verwenden Sie verschiedene Antworten.
activity-phone-added = Telefonnummer hinzugefügt
activity-phone-removed = Telefonnummer entfernt
activity-authenticator-added = Authenticator-App eingerichtet
activity-authenticator-removed = Authenticator-App entfernt
activity-suspected-fraud = Bei einem Benachrichtigungsanruf als „nicht ich“ gemeldet: gesperrt, bis der Helpdesk die Sperre aufhebt
manage-phones = Ihre Telefonnummern verwalten
phones-title = Ihre Telefonnummern
phones-intro = Mit registrierten Nummern erkennt Sie die Telefonlinie, wenn Sie anrufen, und wir können Sie anrufen, um zu bestätigen, dass Sie es sind.
phones-registered-heading = Nummern
col-actions = Aktionen
phone-remove = Entfernen
phone-remove-label = { $number } entfernen
phone-removed-notice = Die Nummer ist entfernt.
reauth-phones-intro = Um eine Nummer hinzuzufügen oder zu entfernen, geben Sie Ihr Passwort noch einmal ein.
phone-add-heading = Nummer hinzufügen
phone-add-intro = Wir rufen die Nummer an und bitten Sie, einen Code einzutippen, den diese Seite zeigt. Die Nummer wird hinzugefügt, sobald Sie ihn eintippen.
field-number = Telefonnummer
number-hint = Mit Ländervorwahl (+49 30 1234567) oder so, wie Sie sie im Inland wählen.
phone-add-submit = Weiter
phone-not-a-number = Diese Telefonnummer können wir nicht lesen. Schreiben Sie sie mit Ländervorwahl, zum Beispiel +49 30 1234567.
phone-not-callable = Diese Nummer können wir nicht anrufen.
phone-already = Diese Nummer ist bereits registriert.
phone-too-many = { $max ->
    [one] Sie können höchstens { $max } Nummer registrieren. Entfernen Sie zuerst eine.
   *[other] Sie können höchstens { $max } Nummern registrieren. Entfernen Sie zuerst eine.
}
phone-try-later = Zu viele Versuche in letzter Zeit. Bitte versuchen Sie es später erneut.
proof-title = Ihre Nummer bestätigen
proof-heading = { $number } wird bestätigt
proof-code-intro = Wenn wir anrufen, tippen Sie diesen Code auf der Tastatur Ihres Telefons ein und dann die Raute-Taste (#):
proof-code-label = Der einzutippende Code
proof-ready = Halten Sie Ihr Telefon bereit und lassen Sie sich dann anrufen.
proof-call-now = Jetzt anrufen
proof-calling = { $status } Diese Seite aktualisiert sich selbst.
proof-check = Jetzt prüfen
proof-verified = Die Nummer ist bestätigt und hinzugefügt.
proof-failed = Die Nummer wurde nicht bestätigt: { $status }
proof-done = Zurück zu Ihren Nummern
proof-try-again = Erneut versuchen
second-factor-title = Bestätigen Sie, dass Sie es sind
second-factor-heading = Noch ein Schritt
second-factor-intro = Um die Anmeldung abzuschließen, rufen wir Ihre Telefonnummer mit der Endung { $number } an.
second-factor-failed = Die Anmeldung wurde nicht bestätigt: { $status } Bitte melden Sie sich erneut an.
second-factor-again = Erneut anmelden
second-factor-cancel = Abbrechen und abmelden
second-factor-none = Für die Anmeldung brauchen wir eine Telefonnummer, die wir anrufen können, und wir haben keine von Ihnen. Bitte rufen Sie den Helpdesk an.
call-queued = Wir rufen Sie jetzt an.
call-ringing = Ihr Telefon klingelt.
call-answered = Der Anruf ist angenommen: Tippen Sie den Code ein.
call-wrong-code = der eingetippte Code war nicht richtig.
call-no-code = es wurde kein Code eingetippt.
call-not-answered = der Anruf wurde nicht angenommen.
call-expired = der Code ist abgelaufen.
call-failed = der Anruf kam nicht zustande.

# Die Authenticator-App (TOTP)
authenticator-title = Ihre Authenticator-App
authenticator-heading = Authenticator-App
authenticator-intro = Eine Authenticator-App auf Ihrem Telefon (etwa Google Authenticator, Microsoft Authenticator oder FreeOTP) zeigt alle 30 Sekunden einen neuen sechsstelligen Code. Wenn Sie Ihr Passwort per Telefon zurücksetzen, werden Sie womöglich gebeten, diesen Code einzutippen.
authenticator-since = Eingerichtet { $when }.
authenticator-none = Sie haben keine Authenticator-App eingerichtet.
manage-authenticator = App einrichten oder ändern
reauth-authenticator-intro = Um eine Authenticator-App einzurichten oder zu entfernen, geben Sie Ihr Passwort noch einmal ein.
authenticator-begin-heading = App einrichten
authenticator-replace-heading = Stattdessen eine neue App einrichten
authenticator-begin-intro = Wir zeigen Ihnen einen Code zum Scannen. Ihre bisherige App funktioniert weiter, bis die neue bestätigt ist.
authenticator-begin = Code zum Scannen zeigen
authenticator-scan-heading = Scannen und bestätigen
authenticator-step-scan = Fügen Sie in Ihrer Authenticator-App ein Konto hinzu und scannen Sie dieses Bild (oder tippen Sie den Schlüssel darunter ein).
authenticator-step-confirm = Geben Sie den sechsstelligen Code ein, den die App jetzt zeigt, um zu bestätigen, dass sie funktioniert.
authenticator-qr-label = Ein QR-Code zum Scannen mit Ihrer Authenticator-App
authenticator-key-caption = Schlüssel zum Eintippen:
field-authenticator-code = Code aus der App
authenticator-code-hint = Sechs Ziffern. Ein Code gilt 30 Sekunden; wechselt er beim Tippen, nehmen Sie den neuen.
authenticator-confirm = Bestätigen
authenticator-wrong-code = Das ist nicht der Code, den die App gerade zeigt. Prüfen Sie die Uhrzeit der App und versuchen Sie den aktuellen Code.
authenticator-added-notice = Ihre Authenticator-App ist eingerichtet.
authenticator-removed-notice = Ihre Authenticator-App wurde entfernt.
authenticator-remove-heading = App entfernen
authenticator-remove-intro = Entfernen Sie sie nur, wenn Sie das Telefon nicht mehr haben. Ein Zurücksetzen per Telefon braucht dann womöglich den Helpdesk.
authenticator-remove = Authenticator-App entfernen
