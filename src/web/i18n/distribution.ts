// Distribution tracking, « Relancer », Word mail merge and letters, activation over time (issue #10, distrib-b).
import type { Catalogue } from './types.js';

const fr = {
  // Tracking: what was handed out (publipostage/tracking.ts)
  'track.title': 'Remise des identifiants',
  'track.sheet': 'Fiche remise le {date}',
  'track.mail': 'Courriel envoyé le {date}',
  'track.never': 'Aucune fiche ni courriel remis',
  'track.notYet': 'Code actuel pas encore remis',
  'track.formerSheet': 'Fiche (code précédent) remise le {date}',
  'track.formerMail': 'Courriel (code précédent) envoyé le {date}',

  // « Relancer »
  'remind.filter': 'Relancer',
  'remind.describe.one': 'Relance : remis il y a plus d’un jour, non activés',
  'remind.describe.other': 'Relance : remis il y a plus de {n} jours, non activés',
  'remind.days': 'Fiche ou courriel remis il y a plus de (jours)',
  'remind.hint': 'Ne garde que les comptes non activés qui ont reçu une fiche ou un courriel il y a plus de ce nombre de jours, et rien depuis, ou dont le code a été régénéré depuis leur fiche.',
  'remind.button': 'Relancer (remis il y a plus de {n} jours, non activés)',
  'remind.class': 'Cocher les comptes à relancer',
  'remind.classHint': 'Fiche ou courriel remis il y a plus de {n} jours, compte toujours pas activé.',
  'remind.ticked.one': '{n} compte à relancer est coché : choisissez « Fiches de connexion » pour lui redonner ses identifiants.',
  'remind.ticked.other': '{n} comptes à relancer sont cochés : choisissez « Fiches de connexion » pour leur redonner leurs identifiants.',
  'remind.none': 'Aucun compte à relancer : tous ceux qui ont reçu leurs identifiants il y a plus de {n} jours sont activés.',
  'remind.noneWaiting.one':
    'Aucun compte à relancer : aucun n’a reçu sa fiche ou son courriel il y a plus de {days} jours. {n} compte n’est pas encore activé : ses identifiants lui ont été remis depuis moins de {days} jours, ou jamais ; cochez-le pour lui donner sa fiche.',
  'remind.noneWaiting.other':
    'Aucun compte à relancer : aucun n’a reçu sa fiche ou son courriel il y a plus de {days} jours. {n} comptes ne sont pas encore activés : leurs identifiants leur ont été remis depuis moins de {days} jours, ou jamais ; cochez-les pour leur donner leur fiche.',

  // Word / LibreOffice
  'word.csv': 'Exporter pour Word',
  'word.letters': 'Lettres Word (modèle de l’établissement)',
  'word.title': 'Publipostage Word / LibreOffice',
  'word.lead':
    'Deux façons d’utiliser votre traitement de texte : le fichier de données pour le publipostage de Word ou LibreOffice, ou vos propres lettres générées ici à partir de votre modèle .docx.',
  'word.csv.title': 'Fichier de données pour Word ou LibreOffice',
  'word.csv.help':
    'Fichier CSV (UTF-8, séparateur « ; ») que Word (« Publipostage › Sélection des destinataires › Utiliser une liste existante ») et LibreOffice (« Mailing ») ouvrent sans question. Champs : {fields}. Le code d’activation est dans le champ MotDePasse.',
  'word.models.title': 'Modèles de lettre (.docx)',
  'word.models.help':
    'Écrivez votre lettre dans Word ou LibreOffice et placez les champs entre accolades, par exemple « Bonjour {prenom} {nom}, votre identifiant est {login} ». Champs possibles : {fields}. {qr} insère le QR code d’activation, {adresse} l’adresse postale venue de l’import (AAF, SIECLE, ONDE ou CSV).',
  'word.models.none': 'Aucun modèle pour le moment.',
  'word.models.upload': 'Ajouter un modèle (.docx)',
  'word.models.file': 'Fichier .docx',
  'word.models.name': 'Nom du modèle',
  'word.models.send': 'Enregistrer le modèle',
  'word.models.saved': 'Modèle « {name} » enregistré ({fields}).',
  'word.models.deleted': 'Modèle supprimé.',
  'word.models.delete': 'Supprimer',
  'word.models.fields': 'Champs utilisés',
  'word.models.uploaded': 'Ajouté le {date}',
  'word.docx': 'Lettres .docx',
  'word.pdf': 'Lettres PDF',
  'word.noSoffice': 'La conversion en PDF demande LibreOffice sur le serveur (commande soffice), qui n’est pas installé : téléchargez le .docx et imprimez-le depuis votre traitement de texte.',
  'word.selection.one': 'Sélection : {n} compte (filtres de la page « Publipostage des comptes »).',
  'word.selection.other': 'Sélection : {n} comptes (filtres de la page « Publipostage des comptes »).',
  'word.noFile': 'Aucun fichier reçu : choisissez un document .docx.',

  // Postal address for a window envelope (PDF, 1 per page)
  'address.option': 'Adresse postale pour enveloppe à fenêtre',
  'address.hint':
    'PDF à 1 fiche par page : l’adresse postale importée de chaque destinataire apparaît dans la fenêtre d’une enveloppe DL ou C5. Un compte sans adresse importée (un élève, le plus souvent : la lettre va à ses représentants légaux) laisse la fenêtre vide.',

  // Console home: activation over time and funnel
  'activity.title': 'Activation au fil des semaines',
  'activity.desc': 'Comptes activés chaque semaine sur les {weeks} dernières semaines ({scope}) : {total} au total sur la période.',
  'activity.scope.all': 'tous les profils et toutes les classes',
  'activity.profile': 'Profil',
  'activity.class': 'Classe',
  'activity.any': 'Tous',
  'activity.show': 'Afficher',
  'activity.week': 'Semaine du',
  'activity.activated': 'Activés dans la semaine',
  'activity.cumulative': 'Activés au total',
  'activity.table': 'Voir les chiffres',
  'funnel.title': 'De la remise à l’activation',
  'funnel.accounts': 'Comptes',
  'funnel.given': 'Fiche ou courriel remis',
  'funnel.activated': 'Activés après la remise',
  // Written without agreement, as a list: a count of one read « 1 d’entre eux sont activés ».
  'funnel.desc': 'Comptes : {accounts} ; fiche ou courriel reçu : {given} ; activés : {activated}.',
  'funnel.unrecorded.one': '{n} compte activé sans remise enregistrée avant son activation (avant le suivi des remises, ou fiche remise hors de Trousseau) n’est pas dans ces étapes.',
  'funnel.unrecorded.other': '{n} comptes activés sans remise enregistrée avant leur activation (avant le suivi des remises, ou fiches remises hors de Trousseau) ne sont pas dans ces étapes.',
};

const en: Record<keyof typeof fr, string> = {
  'track.title': 'Credentials handed out',
  'track.sheet': 'Sheet handed out on {date}',
  'track.mail': 'Email sent on {date}',
  'track.never': 'No sheet or email handed out yet',
  'track.notYet': 'Current code not handed out yet',
  'track.formerSheet': 'Sheet (former code) handed out on {date}',
  'track.formerMail': 'Email (former code) sent on {date}',

  'remind.filter': 'Remind',
  'remind.describe.one': 'Reminder: handed out more than a day ago, not activated',
  'remind.describe.other': 'Reminder: handed out more than {n} days ago, not activated',
  'remind.days': 'Sheet or email handed out more than (days) ago',
  'remind.hint': 'Keeps only accounts not activated that were given a sheet or an email more than this many days ago, and nothing since, or whose code was regenerated since their sheet.',
  'remind.button': 'Remind (handed out more than {n} days ago, not activated)',
  'remind.class': 'Tick the accounts to remind',
  'remind.classHint': 'Sheet or email handed out more than {n} days ago, account still not activated.',
  'remind.ticked.one': '{n} account to remind is ticked: choose “Connection sheets” to give it its credentials again.',
  'remind.ticked.other': '{n} accounts to remind are ticked: choose “Connection sheets” to give them their credentials again.',
  'remind.none': 'Nobody to remind: everyone given their credentials more than {n} days ago has activated.',
  'remind.noneWaiting.one':
    'Nobody to remind: no one was given a sheet or email more than {days} days ago. {n} account is not activated yet: its credentials were given less than {days} days ago, or never; tick it to give it its sheet.',
  'remind.noneWaiting.other':
    'Nobody to remind: no one was given a sheet or email more than {days} days ago. {n} accounts are not activated yet: their credentials were given less than {days} days ago, or never; tick them to give them their sheets.',

  'word.csv': 'Export for Word',
  'word.letters': 'Word letters (school’s own model)',
  'word.title': 'Word / LibreOffice mail merge',
  'word.lead': 'Two ways to use your word processor: the data file for Word’s or LibreOffice’s mail merge, or your own letters generated here from your .docx model.',
  'word.csv.title': 'Data file for Word or LibreOffice',
  'word.csv.help':
    'CSV file (UTF-8, “;” separator) that Word (“Mailings › Select Recipients › Use an Existing List”) and LibreOffice (“Mail Merge”) open without questions. Fields: {fields}. The activation code is in the MotDePasse field.',
  'word.models.title': 'Letter models (.docx)',
  'word.models.help':
    'Write your letter in Word or LibreOffice and put the fields between braces, e.g. “Bonjour {prenom} {nom}, votre identifiant est {login}”. Fields: {fields}. {qr} inserts the activation QR code, {adresse} the postal address from the import (AAF, SIECLE, ONDE or CSV).',
  'word.models.none': 'No model yet.',
  'word.models.upload': 'Add a model (.docx)',
  'word.models.file': '.docx file',
  'word.models.name': 'Model name',
  'word.models.send': 'Save the model',
  'word.models.saved': 'Model “{name}” saved ({fields}).',
  'word.models.deleted': 'Model deleted.',
  'word.models.delete': 'Delete',
  'word.models.fields': 'Fields used',
  'word.models.uploaded': 'Added on {date}',
  'word.docx': '.docx letters',
  'word.pdf': 'PDF letters',
  'word.noSoffice': 'Converting to PDF needs LibreOffice on the server (the soffice command), which is not installed: download the .docx and print it from your word processor.',
  'word.selection.one': 'Selection: {n} account (filters of the “Account mail merge” page).',
  'word.selection.other': 'Selection: {n} accounts (filters of the “Account mail merge” page).',
  'word.noFile': 'No file received: choose a .docx document.',

  'address.option': 'Postal address for a window envelope',
  'address.hint':
    'PDF with 1 sheet per page: each recipient’s imported postal address shows through the window of a DL or C5 envelope. An account with no imported address (usually a pupil: letters go to the legal representatives) leaves the window empty.',

  'activity.title': 'Activation week by week',
  'activity.desc': 'Accounts activated each week over the last {weeks} weeks ({scope}): {total} in all over the period.',
  'activity.scope.all': 'every profile and class',
  'activity.profile': 'Profile',
  'activity.class': 'Class',
  'activity.any': 'All',
  'activity.show': 'Show',
  'activity.week': 'Week of',
  'activity.activated': 'Activated that week',
  'activity.cumulative': 'Activated in all',
  'activity.table': 'See the figures',
  'funnel.title': 'From hand-out to activation',
  'funnel.accounts': 'Accounts',
  'funnel.given': 'Sheet or email handed out',
  'funnel.activated': 'Activated after the hand-out',
  'funnel.desc': 'Accounts: {accounts}; given a sheet or an email: {given}; activated: {activated}.',
  'funnel.unrecorded.one': '{n} account activated with no hand-out recorded before its activation (before hand-outs were tracked, or a sheet given outside Trousseau) is not in these steps.',
  'funnel.unrecorded.other': '{n} accounts activated with no hand-out recorded before their activation (before hand-outs were tracked, or sheets given outside Trousseau) are not in these steps.',
};

export const distributionCatalogue = { fr, en } satisfies Catalogue;
