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
# Notices of what happened to a person's accounts.
notice-subject-reset = Your password was reset
notice-subject-reset-failed = A password reset for your account did not complete
notice-subject-unlock = Your account was unlocked
notice-subject-lockout = Your account was locked after failed attempts
notice-subject-verify-failure = Someone could not prove to be you
notice-greeting = Hello { $name },
notice-reset = your password was reset { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }.
notice-reset-failed = a password reset for your account was started { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }, but did not complete.
notice-unlock = your account was unlocked { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }.
notice-lockout = after repeated failed attempts to prove to be you { $door ->
    [portal] in the self-service portal
   *[other] by telephone
}, the password reset service locked your account for itself at { $time }.
notice-lockout-until = The lock ends at { $time }; until then the helpdesk can clear it.
notice-lockout-indefinite = The lock stays until the helpdesk clears it.
notice-verify-failure = someone tried to prove to be you { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time } and failed.
notice-systems = Systems:
notice-system-done = { $target } ({ $account }): done
notice-system-failed = { $target } ({ $account }): not changed
notice-system-unknown = { $target } ({ $account }): not confirmed: the service stopped while it was making the change. Try again, or call the helpdesk.
notice-not-you = If this was not you, call the helpdesk at once: someone may know your answers.
notice-was-you = If it was you, there is nothing more to do.
notice-footer = This is an automatic message from the password reset service; please do not reply. It never contains a password. Nobody will ever ask you for your password or your answers, by e-mail or by phone.
# Notices to administrators about a privileged person.
notice-admin-subject-reset = Privileged account { $id }: password reset
notice-admin-subject-unlock = Privileged account { $id }: unlocked
notice-admin-subject-lockout = Privileged account { $id }: locked out
notice-admin-greeting = Hello,
notice-admin-reset = the password of { $name } ({ $id }), a privileged account, was reset { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }.
notice-admin-unlock = the accounts of { $name } ({ $id }), a privileged account, were unlocked { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }.
notice-admin-lockout = { $name } ({ $id }), a privileged account, was locked after repeated failed attempts to prove to be them { $door ->
    [portal] in the self-service portal
   *[other] by telephone
} at { $time }.
notice-admin-check = Check with { $name } that it was them; if not, treat it as an attack on a privileged account.
