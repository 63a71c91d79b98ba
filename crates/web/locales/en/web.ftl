# touchtone's pages, English. Keep the German file's messages in the same order.
app-name = touchtone
skip-to-content = Skip to the content
nav-label = Language and account
signed-in-as = Signed in as { $name }
sign-out = Sign out
footer = Your answers are stored only as keyed digits, hashed. Nobody can read them back, not even the helpdesk.
back-home = Back to your status
error-forbidden-title = Not allowed
error-forbidden = The form was not sent from this page, or it is too old. Nothing was changed. Reload the page and try again.
error-not-found-title = Page not found
error-not-found = There is no page at this address.
error-unavailable-title = Please try again
error-unavailable = Something went wrong on our side. Nothing was changed. Please try again in a minute.
sign-in-title = Sign in
sign-in-intro = Sign in with your user ID and the password you use for your work account.
sign-in-help = If you cannot sign in, call the password reset line or the helpdesk.
sign-in-ended = You were signed out. Please sign in again.
sign-in-refused = The user ID or password is not right.
sign-in-throttled = Too many failed sign-ins. Please wait a few minutes and try again.
field-login = User ID
field-password = Password
sign-in = Sign in
status-title = Your phone reset status
enrolled-now = Your answers are enrolled.
enrolment-heading = Security questions
enrolment-complete = { $count ->
    [one] You are enrolled: { $count } question is answered. You can reset your password by phone.
   *[other] You are enrolled: { $count } questions are answered. You can reset your password by phone.
}
enrolment-missing = { $count ->
    [one] You are not enrolled yet: answer { $count } more question to reset your password by phone.
   *[other] You are not enrolled yet: answer { $count } more questions to reset your password by phone.
}
enrolment-reconfirm = Some of your answers are old. Please enrol them again.
questions-caption = The questions you answered
col-question = Question
col-enrolled = Answered on
own-question-tag = your own question
stale-tag = please renew
enrol-answers = Enrol your answers
change-answers = Change your answers
phones-heading = Phone numbers
phones-none = No phone number is registered for you.
phones-caption = Your phone numbers
col-number = Number
col-source = Where it comes from
phone-registered = registered by you on { $when }
phone-from-directory = from the company directory
accounts-heading = Your accounts
accounts-none = No accounts are known for you.
accounts-caption = The systems where your password is reset
col-system = System
col-account = Account
activity-heading = Recent activity
activity-intro = What happened to your identity lately. If you see something you did not do, call the helpdesk.
activity-none = Nothing has happened yet.
activity-caption = Recent activity on your identity, newest first
col-when = When
col-what = What
col-door = How
col-from = From number
activity-reset-ok = Password reset on { $target }
activity-reset-failed = Password reset failed on { $target }
activity-unlock-ok = Account unlocked on { $target }
activity-unlock-failed = Unlock failed on { $target }
activity-verify-failed = Wrong answers or password
activity-lockout = Locked out after too many failures
activity-lockout-cleared = Lockout cleared by the helpdesk
activity-enrolment = Answers changed
activity-sign-in = Signed in to this page
activity-other = Other activity
door-api = remote service
door-phone = phone
door-portal = this page
answers-title = Your security questions
answers-intro = { $count ->
    [one] Choose { $count } question and type its answer twice.
   *[other] Choose { $count } different questions and type each answer twice.
}
answers-rules = On the phone you key your answers on the keypad: letters become digits (A, B and C are 2, and so on). An answer must not be too short, one digit repeated, a run such as 1234, your user ID, or the same as another answer.
answers-problems = { $count ->
    [one] One answer needs a change. See the note next to it.
   *[other] { $count } answers need a change. See the notes next to them.
}
slot-legend = Question { $number }
field-question = Question
choose-question = Choose a question
own-question-option = Write my own question
field-own-question = Your own question (when chosen above)
field-answer = Answer
field-answer-again = Answer again
on-keypad-label = On the keypad:
hint-year = A year with four digits, such as 1956.
hint-digits = { $range } digits on the keypad.
enrol-submit = Enrol these answers
enrolled-keys-intro = On the phone you will key these digits. Letters became digits; keep them in mind.
enrolled-keys-caption = What you key on the phone
col-keys = Keys
reauth-heading = Confirm it is you
reauth-intro = To change your answers, enter your password again.
reauth-continue = Continue
reauth-refused = The password is not right.
problem-no-question = Choose a question.
problem-unknown-question = That question cannot be chosen.
problem-question-twice = This question is chosen twice. Choose a different one.
problem-own-question = Write your question (at most 200 characters).
problem-mismatch = The two answers differ. Type the same answer twice.
problem-not-keyable = The answer has no letters or digits that can be keyed on a phone.
problem-count = { $count ->
    [one] Answer exactly { $count } question.
   *[other] Answer exactly { $count } questions.
}
weak-too-short = { $min ->
    [one] The answer must be at least { $min } digit on the keypad.
   *[other] The answer must be at least { $min } digits on the keypad.
}
weak-too-long = { $max ->
    [one] The answer can be at most { $max } digit on the keypad.
   *[other] The answer can be at most { $max } digits on the keypad.
}
weak-repeated = The answer is one digit repeated. Choose something harder to guess.
weak-run = The answer is a run of digits such as 1234. Choose something harder to guess.
weak-user-id = The answer is your user ID. Choose something only you know.
weak-year = Give a year from { $range }.
weak-same = This answer keys the same digits as another answer. Use different answers.
activity-phone-added = Phone number added
activity-phone-removed = Phone number removed
activity-authenticator-added = Authenticator app set up
activity-authenticator-removed = Authenticator app removed
activity-suspected-fraud = Reported as not you on a notification call: locked until the helpdesk clears it
manage-phones = Manage your phone numbers
phones-title = Your phone numbers
phones-intro = Registered numbers let the phone line recognise you when you call, and can be called to confirm it is you.
phones-registered-heading = Numbers
col-actions = Actions
phone-remove = Remove
phone-remove-label = Remove { $number }
phone-removed-notice = The number is removed.
reauth-phones-intro = To add or remove a number, enter your password again.
phone-add-heading = Add a number
phone-add-intro = We call the number and ask you to key a code that this page shows. The number is added once you key it.
field-number = Phone number
number-hint = With the country code (+49 30 1234567) or as you dial it at home.
phone-add-submit = Continue
phone-not-a-number = That is not a phone number we can read. Write it with its country code, such as +49 30 1234567.
phone-not-callable = We cannot call that number.
phone-already = That number is registered already.
phone-too-many = { $max ->
    [one] You can register at most { $max } number. Remove one first.
   *[other] You can register at most { $max } numbers. Remove one first.
}
phone-try-later = Too many tries lately. Please try again later.
proof-title = Confirm your number
proof-heading = Confirming { $number }
proof-code-intro = When we call, key this code on your phone's keypad, then the hash key (#):
proof-code-label = The code to key
proof-ready = Have your phone ready, then ask us to call.
proof-call-now = Call me now
proof-calling = { $status } This page updates by itself.
proof-check = Check now
proof-verified = The number is confirmed and added.
proof-failed = The number was not confirmed: { $status }
proof-done = Back to your numbers
proof-try-again = Try again
second-factor-title = Confirm it is you
second-factor-heading = One more step
second-factor-intro = To finish signing in, we call your phone number ending in { $number }.
second-factor-failed = The sign-in was not confirmed: { $status } Please sign in again.
second-factor-again = Sign in again
second-factor-cancel = Cancel and sign out
second-factor-none = Signing in needs a phone number we can call, and we have none for you. Please call the helpdesk.
call-queued = We are calling you now.
call-ringing = Your phone is ringing.
call-answered = The call is answered: key the code.
call-wrong-code = the code keyed was not right.
call-no-code = no code was keyed.
call-not-answered = the call was not answered.
call-expired = the code expired.
call-failed = the call did not go through.

# The authenticator app (TOTP)
authenticator-title = Your authenticator app
authenticator-heading = Authenticator app
authenticator-intro = An authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator or FreeOTP) shows a new six-digit code every 30 seconds. When you reset your password by phone, you may be asked to key the code it shows.
authenticator-since = Set up { $when }.
authenticator-none = You have not set up an authenticator app.
manage-authenticator = Set up or change your app
reauth-authenticator-intro = To set up or remove an authenticator app, enter your password again.
authenticator-begin-heading = Set up an app
authenticator-replace-heading = Set up a new app instead
authenticator-begin-intro = We will show a code to scan. Your current app keeps working until the new one is confirmed.
authenticator-begin = Show the code to scan
authenticator-scan-heading = Scan and confirm
authenticator-step-scan = In your authenticator app, add an account and scan this picture (or type the key below it).
authenticator-step-confirm = Type the six-digit code the app now shows, to confirm it works.
authenticator-qr-label = A QR code to scan with your authenticator app
authenticator-key-caption = Key to type instead:
field-authenticator-code = Code from the app
authenticator-code-hint = Six digits. A code lasts 30 seconds; if it changes while you type, use the new one.
authenticator-confirm = Confirm
authenticator-wrong-code = That is not the code the app shows now. Check the app's clock and try the current code.
authenticator-added-notice = Your authenticator app is set up.
authenticator-removed-notice = Your authenticator app was removed.
authenticator-remove-heading = Remove the app
authenticator-remove-intro = Remove it only if you no longer have the phone. A reset by phone may then need the helpdesk.
authenticator-remove = Remove the authenticator app
