# Reminder e-mails, English. Keep the German file's messages in the same order.
reminder-subject-enrol = Please enrol for the telephone password reset
reminder-subject-reconfirm = Please confirm your security answers
reminder-greeting = Hello { $name },
reminder-enrol = you have not chosen your security questions yet. With them you can reset a forgotten password or unlock your account yourself, by telephone, at any hour.
reminder-reconfirm = your security answers are due to be confirmed. Until you confirm them, the telephone password reset will send you to the helpdesk.
reminder-sign-in = Sign in at { $url } with the password of your work account.
reminder-choose = { $count ->
    [one] Choose a question and type your answer twice. It takes two minutes.
   *[other] Choose { $count } questions and type each answer twice. It takes two minutes.
}
reminder-reconfirm-how = Enter your answers again, or choose new ones.
reminder-no-computer = No computer at hand? The helpdesk can give you a PIN with which you enrol by telephone.
reminder-footer = This is an automatic message from the password reset service; please do not reply. Nobody will ever ask you for your password or your answers, by e-mail or by phone.
