package web

import (
	"fmt"
	"strings"
	"time"
)

// lang is a language of the dashboard.
type lang string

const (
	english lang = "en"
	french  lang = "fr"
)

// langOf reads a user's or company's language tag (fr-FR, en-US, fr):
// French for any French, English otherwise.
func langOf(tag string) lang {
	if strings.HasPrefix(strings.ToLower(tag), "fr") {
		return french
	}
	return english
}

// tagOf is the language tag the API stores for a dashboard language.
func tagOf(l lang) string {
	if l == french {
		return "fr-FR"
	}
	return "en-US"
}

// langFromHeader picks the visitor's language before sign-in: the first
// of Accept-Language the dashboard speaks.
func langFromHeader(accept string) lang {
	for _, part := range strings.Split(accept, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		switch {
		case strings.HasPrefix(strings.ToLower(tag), "fr"):
			return french
		case strings.HasPrefix(strings.ToLower(tag), "en"):
			return english
		}
	}
	return english
}

// translate says key in l; args fill its %s and %d. A missing key shows
// itself (a test checks that none is missing).
func translate(l lang, key string, args ...any) string {
	msg, ok := catalog[l][key]
	if !ok {
		msg, ok = catalog[english][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

var monthNames = map[lang][12]string{
	english: {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	french:  {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
}

// formatDate is a day as its language writes it: Mar 5, 2026 / 5 mars 2026.
func formatDate(l lang, t time.Time) string {
	m := monthNames[l][t.Month()-1]
	if l == french {
		return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%s %d, %d", m, t.Day(), t.Year())
}

// formatTime is a time of day: 3:04 PM / 15:04.
func formatTime(l lang, t time.Time) string {
	if l == french {
		return t.Format("15:04")
	}
	return t.Format("3:04 PM")
}

// formatDuration is a length of time: 1 h 02 min, 3 min 05 s, 42 s.
func formatDuration(secs int) string {
	d := time.Duration(secs) * time.Second
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, secs%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}

// catalog holds every message of the dashboard, in each language: the
// parts merged, each page's file keeping its own (add a part here). Keys
// are what templates and code name; a test checks both languages have
// every key and that every key named exists.
var catalog = merge(coreMessages, adminMessages, numbersMessages, callsMessages, usersMessages)

// messages are a part of the catalogue.
type messages map[lang]map[string]string

// merge puts parts together; a key in two parts is a mistake, refused at
// start (every test sees it).
func merge(parts ...messages) messages {
	out := messages{english: {}, french: {}}
	for _, part := range parts {
		for l, msgs := range part {
			for k, v := range msgs {
				if _, dup := out[l][k]; dup {
					panic("web: message " + k + " is in two parts of the catalogue")
				}
				out[l][k] = v
			}
		}
	}
	return out
}

// coreMessages are the layout's, the accounts', Home's, Team's and
// Account's.
var coreMessages = messages{
	english: {
		"app.name":         "Switchboard",
		"app.skip":         "Skip to content",
		"nav.label":        "Sections",
		"nav.home":         "Home",
		"nav.numbers":      "Numbers",
		"nav.team":         "Team",
		"nav.calls":        "Calls",
		"nav.stats":        "Statistics",
		"nav.live":         "Live",
		"nav.tags":         "Tags & blocked numbers",
		"nav.integrations": "Integrations",
		"nav.account":      "Account",
		"nav.signout":      "Sign out",
		"lang.label":       "Language",
		"lang.en":          "English",
		"lang.fr":          "Français",
		"lang.switch":      "Change",
		"form.required":    "required",
		"form.save":        "Save",
		"form.error":       "Check the highlighted fields.",

		"role.admin":      "Admin",
		"role.supervisor": "Supervisor",
		"role.agent":      "Agent",
		"role.owner":      "owner",

		"signin.title":     "Sign in",
		"signin.email":     "Professional email",
		"signin.password":  "Password",
		"signin.submit":    "Sign in",
		"signin.forgot":    "Forgot your password?",
		"signin.wrong":     "Wrong email or password.",
		"signin.limited":   "Too many failed attempts: try again in %d seconds.",
		"signin.invited":   "Your password is set: welcome!",
		"signin.signedout": "You are signed out.",

		"forgot.title":  "Forgot your password?",
		"forgot.intro":  "Enter your email: we will send you a link to choose a new password.",
		"forgot.submit": "Send the link",
		"forgot.sent":   "If an account uses %s, a link to choose a new password is on its way. It works for one hour.",
		"forgot.back":   "Back to sign in",

		"password.invitation.title": "Welcome, %s",
		"password.invitation.intro": "You were invited to %s on Switchboard. Choose your password to sign in.",
		"password.reset.title":      "Choose a new password",
		"password.reset.intro":      "Choose a new password for %s. Every browser signed in to your account will be signed out.",
		"password.new":              "Password",
		"password.confirm":          "Confirm the password",
		"password.hint":             "At least %d characters.",
		"password.submit":           "Set my password",
		"password.tooshort":         "Use at least %d characters.",
		"password.toolong":          "Use at most %d characters.",
		"password.mismatch":         "The two passwords differ.",
		"link.unknown.title":        "This link does not work",
		"link.unknown.text":         "It may have been replaced by a newer mail, or mistyped. Ask for a new one.",
		"link.expired.title":        "This link has expired",
		"link.expired.invitation":   "Invitations last 7 days. Ask your admin to send the invitation again.",
		"link.expired.reset":        "Reset links last one hour. Ask for a new one.",
		"link.used.title":           "This link was already used",
		"link.used.text":            "A link sets a password once. Sign in with your password, or ask for a new link.",
		"link.new":                  "Ask for a new link",

		"csrf.title":  "This form has expired",
		"csrf.text":   "The page was open too long, or the request did not come from this site. Reload the page and try again.",
		"csrf.reload": "Reload",

		"error.title":     "Something went wrong",
		"error.text":      "The server failed; the details are in its log. Try again in a moment.",
		"notfound.title":  "Page not found",
		"notfound.text":   "There is no page at this address.",
		"forbidden.title": "Not allowed",
		"back.home":       "Back to home",

		"home.title":         "Home",
		"home.hello":         "Hello %s",
		"home.today":         "Today",
		"home.calls":         "Calls today",
		"home.inbound":       "inbound",
		"home.outbound":      "outbound",
		"home.missed":        "Missed calls",
		"home.sla":           "Service level",
		"home.sla.hint":      "answered within %d s",
		"home.agents":        "Agents available",
		"home.agents.of":     "of %d",
		"home.waiting":       "Waiting now",
		"home.none":          "—",
		"home.recent":        "Latest calls",
		"home.norecent":      "No call yet.",
		"home.numbers":       "Your numbers",
		"home.users":         "Your users",
		"home.seeall":        "See all",
		"home.live.off":      "The live view is not running.",
		"call.inbound":       "Inbound",
		"call.outbound":      "Outbound",
		"call.missed":        "missed",
		"call.answered":      "answered",
		"call.when":          "When",
		"call.direction":     "Direction",
		"call.with":          "Phone number",
		"call.number":        "Line",
		"call.duration":      "Duration",
		"call.status":        "Status",
		"call.anonymous":     "Hidden number",
		"search.label":       "Quick search",
		"search.placeholder": "A phone number, a name, an email",
		"search.submit":      "Search",
		"search.numbers":     "Numbers",
		"search.users":       "Users",
		"search.calls":       "Calls",
		"search.none":        "Nothing found for “%s”.",
		"search.short":       "Type at least 2 characters.",

		"team.title":          "Team",
		"team.users":          "Users",
		"team.name":           "Name",
		"team.email":          "Email",
		"team.extension":      "Extension",
		"team.role":           "Role",
		"team.state":          "Account",
		"team.actions":        "Actions",
		"team.active":         "Active",
		"team.invited":        "Invited on %s (until %s)",
		"team.invite.expired": "Invitation expired",
		"team.notinvited":     "No password yet",
		"team.resend":         "Resend invitation",
		"team.invite":         "Send invitation",
		"team.setrole":        "Change role of %s",
		"team.invite.title":   "Invite a user",
		"team.invite.intro":   "The user gets an email with a link to choose their password.",
		"team.first_name":     "First name",
		"team.last_name":      "Last name",
		"team.invite.submit":  "Invite",
		"team.invited.ok":     "Invitation sent to %s.",
		"team.resent.ok":      "Invitation sent again to %s.",
		"team.mail.failed":    "%s was created, but the invitation mail could not be sent (%s). Use “Resend invitation” once the mail server works.",
		"team.role.ok":        "%s is now %s.",
		"team.prev":           "Previous",
		"team.next":           "Next",
		"team.page":           "Page %d of %d",
		"team.readonly":       "Supervisors see the team; only admins change it.",

		"account.title":         "Account",
		"account.profile":       "Profile",
		"account.role":          "Role",
		"account.timezone":      "Time zone",
		"account.timezone.hint": "Dates and times are shown in this time zone, such as Europe/Paris.",
		"account.saved":         "Saved.",
		"account.sessions":      "Sessions",
		"account.sessions.text": "Signed in on another computer or a lost phone? Sign out of every browser at once, this one included.",
		"account.everywhere":    "Sign out everywhere",

		"mail.invitation.subject": "Your invitation to %s on Switchboard",
		"mail.invitation.text":    "Hello %s,\n\n%s invites you to join %s on Switchboard.\n\nChoose your password here (the link works for 7 days, once):\n%s\n\nThen sign in at %s with %s.\n",
		"mail.reset.subject":      "Choose a new Switchboard password",
		"mail.reset.text":         "Hello %s,\n\nSomeone (you, we hope) asked to reset the password of %s.\n\nChoose a new password here (the link works for one hour, once):\n%s\n\nIf you did not ask, ignore this mail: your password stays as it is.\n",
	},
	french: {
		"app.name":         "Switchboard",
		"app.skip":         "Aller au contenu",
		"nav.label":        "Sections",
		"nav.home":         "Accueil",
		"nav.numbers":      "Numéros",
		"nav.team":         "Équipe",
		"nav.calls":        "Appels",
		"nav.stats":        "Statistiques",
		"nav.live":         "En direct",
		"nav.tags":         "Tags et numéros bloqués",
		"nav.integrations": "Intégrations",
		"nav.account":      "Compte",
		"nav.signout":      "Déconnexion",
		"lang.label":       "Langue",
		"lang.en":          "English",
		"lang.fr":          "Français",
		"lang.switch":      "Changer",
		"form.required":    "obligatoire",
		"form.save":        "Enregistrer",
		"form.error":       "Vérifiez les champs signalés.",

		"role.admin":      "Administrateur",
		"role.supervisor": "Superviseur",
		"role.agent":      "Agent",
		"role.owner":      "propriétaire",

		"signin.title":     "Connexion",
		"signin.email":     "Adresse email professionnelle",
		"signin.password":  "Mot de passe",
		"signin.submit":    "Connexion",
		"signin.forgot":    "Mot de passe oublié ?",
		"signin.wrong":     "Email ou mot de passe incorrect.",
		"signin.limited":   "Trop de tentatives échouées : réessayez dans %d secondes.",
		"signin.invited":   "Votre mot de passe est enregistré : bienvenue !",
		"signin.signedout": "Vous êtes déconnecté.",

		"forgot.title":  "Mot de passe oublié ?",
		"forgot.intro":  "Entrez votre email : nous vous enverrons un lien pour choisir un nouveau mot de passe.",
		"forgot.submit": "Envoyer le lien",
		"forgot.sent":   "Si un compte utilise %s, un lien pour choisir un nouveau mot de passe vient de partir. Il est valable une heure.",
		"forgot.back":   "Retour à la connexion",

		"password.invitation.title": "Bienvenue, %s",
		"password.invitation.intro": "Vous êtes invité à rejoindre %s sur Switchboard. Choisissez votre mot de passe pour vous connecter.",
		"password.reset.title":      "Choisissez un nouveau mot de passe",
		"password.reset.intro":      "Choisissez un nouveau mot de passe pour %s. Tous les navigateurs connectés à votre compte seront déconnectés.",
		"password.new":              "Mot de passe",
		"password.confirm":          "Confirmez le mot de passe",
		"password.hint":             "Au moins %d caractères.",
		"password.submit":           "Enregistrer mon mot de passe",
		"password.tooshort":         "Utilisez au moins %d caractères.",
		"password.toolong":          "Utilisez au plus %d caractères.",
		"password.mismatch":         "Les deux mots de passe diffèrent.",
		"link.unknown.title":        "Ce lien ne fonctionne pas",
		"link.unknown.text":         "Il a peut-être été remplacé par un email plus récent, ou mal recopié. Demandez-en un nouveau.",
		"link.expired.title":        "Ce lien a expiré",
		"link.expired.invitation":   "Une invitation est valable 7 jours. Demandez à votre administrateur de vous la renvoyer.",
		"link.expired.reset":        "Un lien de réinitialisation est valable une heure. Demandez-en un nouveau.",
		"link.used.title":           "Ce lien a déjà servi",
		"link.used.text":            "Un lien ne définit un mot de passe qu’une fois. Connectez-vous avec votre mot de passe, ou demandez un nouveau lien.",
		"link.new":                  "Demander un nouveau lien",

		"csrf.title":  "Ce formulaire a expiré",
		"csrf.text":   "La page est restée ouverte trop longtemps, ou la demande ne venait pas de ce site. Rechargez la page et réessayez.",
		"csrf.reload": "Recharger",

		"error.title":     "Une erreur est survenue",
		"error.text":      "Le serveur a échoué ; les détails sont dans son journal. Réessayez dans un instant.",
		"notfound.title":  "Page introuvable",
		"notfound.text":   "Il n’y a pas de page à cette adresse.",
		"forbidden.title": "Action non autorisée",
		"back.home":       "Retour à l’accueil",

		"home.title":         "Accueil",
		"home.hello":         "Bonjour %s",
		"home.today":         "Aujourd’hui",
		"home.calls":         "Appels aujourd’hui",
		"home.inbound":       "entrants",
		"home.outbound":      "sortants",
		"home.missed":        "Appels manqués",
		"home.sla":           "Qualité de service",
		"home.sla.hint":      "répondus en moins de %d s",
		"home.agents":        "Agents disponibles",
		"home.agents.of":     "sur %d",
		"home.waiting":       "En attente",
		"home.none":          "—",
		"home.recent":        "Derniers appels",
		"home.norecent":      "Aucun appel pour l’instant.",
		"home.numbers":       "Vos numéros",
		"home.users":         "Vos utilisateurs",
		"home.seeall":        "Tout voir",
		"home.live.off":      "La vue en direct ne tourne pas.",
		"call.inbound":       "Entrant",
		"call.outbound":      "Sortant",
		"call.missed":        "manqué",
		"call.answered":      "répondu",
		"call.when":          "Date",
		"call.direction":     "Sens",
		"call.with":          "Numéro de téléphone",
		"call.number":        "Ligne",
		"call.duration":      "Durée",
		"call.status":        "Statut",
		"call.anonymous":     "Numéro masqué",
		"search.label":       "Recherche rapide",
		"search.placeholder": "Un numéro, un nom, un email",
		"search.submit":      "Rechercher",
		"search.numbers":     "Numéros",
		"search.users":       "Utilisateurs",
		"search.calls":       "Appels",
		"search.none":        "Aucun résultat pour « %s ».",
		"search.short":       "Tapez au moins 2 caractères.",

		"team.title":          "Équipe",
		"team.users":          "Utilisateurs",
		"team.name":           "Nom",
		"team.email":          "Email",
		"team.extension":      "Extension",
		"team.role":           "Rôle",
		"team.state":          "Compte",
		"team.actions":        "Actions",
		"team.active":         "Actif",
		"team.invited":        "Invité le %s (jusqu’au %s)",
		"team.invite.expired": "Invitation expirée",
		"team.notinvited":     "Pas encore de mot de passe",
		"team.resend":         "Renvoyer l’invitation",
		"team.invite":         "Envoyer l’invitation",
		"team.setrole":        "Changer le rôle de %s",
		"team.invite.title":   "Inviter un utilisateur",
		"team.invite.intro":   "L’utilisateur reçoit un email avec un lien pour choisir son mot de passe.",
		"team.first_name":     "Prénom",
		"team.last_name":      "Nom",
		"team.invite.submit":  "Inviter",
		"team.invited.ok":     "Invitation envoyée à %s.",
		"team.resent.ok":      "Invitation renvoyée à %s.",
		"team.mail.failed":    "%s a été créé, mais l’email d’invitation n’a pas pu partir (%s). Utilisez « Renvoyer l’invitation » quand le serveur de mail fonctionne.",
		"team.role.ok":        "%s est maintenant %s.",
		"team.prev":           "Précédent",
		"team.next":           "Suivant",
		"team.page":           "Page %d sur %d",
		"team.readonly":       "Les superviseurs voient l’équipe ; seuls les administrateurs la modifient.",

		"account.title":         "Compte",
		"account.profile":       "Profil",
		"account.role":          "Rôle",
		"account.timezone":      "Fuseau horaire",
		"account.timezone.hint": "Les dates et heures sont affichées dans ce fuseau, par exemple Europe/Paris.",
		"account.saved":         "Enregistré.",
		"account.sessions":      "Sessions",
		"account.sessions.text": "Connecté sur un autre ordinateur ou un téléphone perdu ? Déconnectez tous les navigateurs d’un coup, celui-ci compris.",
		"account.everywhere":    "Se déconnecter partout",

		"mail.invitation.subject": "Votre invitation à rejoindre %s sur Switchboard",
		"mail.invitation.text":    "Bonjour %s,\n\n%s vous invite à rejoindre %s sur Switchboard.\n\nChoisissez votre mot de passe ici (le lien est valable 7 jours, une seule fois) :\n%s\n\nConnectez-vous ensuite sur %s avec %s.\n",
		"mail.reset.subject":      "Choisissez un nouveau mot de passe Switchboard",
		"mail.reset.text":         "Bonjour %s,\n\nQuelqu’un (vous, espérons-le) a demandé à réinitialiser le mot de passe de %s.\n\nChoisissez un nouveau mot de passe ici (le lien est valable une heure, une seule fois) :\n%s\n\nSi vous n’avez rien demandé, ignorez cet email : votre mot de passe ne change pas.\n",
	},
}
