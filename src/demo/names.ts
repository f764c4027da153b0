// Name pools for the demo school: French usage, accents, and a few letters logins must fold (Kù, Åslög, Çelik).

export const GIRLS = [
  'Emma', 'Jade', 'Louise', 'Alice', 'Chloé', 'Lina', 'Léa', 'Rose', 'Anna', 'Mila', 'Inès', 'Ambre', 'Julia', 'Mia',
  'Léna', 'Manon', 'Juliette', 'Lou', 'Zoé', 'Camille', 'Agathe', 'Jeanne', 'Lucie', 'Éva', 'Nina', 'Sarah', 'Romane',
  'Maëlys', 'Héloïse', 'Anaïs', 'Clémence', 'Noémie', 'Margaux', 'Océane', 'Maïa', 'Élise', 'Justine', 'Salomé', 'Aïcha',
  'Fatoumata', 'Yasmine', 'Åslög', 'Kù', 'Maëlle', 'Gaëlle', 'Bérénice', 'Capucine', 'Mélissa', 'Thaïs', 'Léonore',
];

export const BOYS = [
  'Gabriel', 'Léo', 'Raphaël', 'Arthur', 'Louis', 'Jules', 'Adam', 'Maël', 'Lucas', 'Hugo', 'Noah', 'Liam', 'Gabin',
  'Sacha', 'Paul', 'Nathan', 'Aaron', 'Mohamed', 'Ethan', 'Tom', 'Éden', 'Théo', 'Noé', 'Victor', 'Martin', 'Mathis',
  'Timéo', 'Nolan', 'Enzo', 'Valentin', 'Axel', 'Antoine', 'Baptiste', 'Clément', 'Noël', 'Joël', 'Loïc', 'Anaël',
  'Jérôme', 'Stéphane', 'François', 'Grégoire', 'Mehdi', 'Youssef', 'Ibrahim', 'Kylian', 'Øyvind', 'Zoltán', 'Amaury', 'Côme',
];

export const ADULT_WOMEN = [
  'Nathalie', 'Isabelle', 'Sylvie', 'Catherine', 'Valérie', 'Christine', 'Sandrine', 'Stéphanie', 'Céline', 'Aurélie',
  'Émilie', 'Delphine', 'Séverine', 'Hélène', 'Véronique', 'Karine', 'Sophie', 'Laëtitia', 'Élodie', 'Françoise',
  'Mélanie', 'Virginie', 'Géraldine', 'Anne-Sophie', 'Marie-Hélène', 'Nadège', 'Fatima', 'Khadija', 'Åse', 'Soizic',
];

export const ADULT_MEN = [
  'Philippe', 'Christophe', 'Stéphane', 'Frédéric', 'Laurent', 'Nicolas', 'Sébastien', 'Olivier', 'Thierry', 'Jérôme',
  'Éric', 'David', 'Pascal', 'Cédric', 'Arnaud', 'Grégory', 'Jean-Luc', 'Jean-François', 'Hervé', 'Benoît', 'Loïc',
  'Joël', 'Rachid', 'Karim', 'Mamadou', 'Björn', 'Yannick', 'Régis', 'Gaël', 'Noël',
];

export const LAST_NAMES = [
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel',
  'Lefèvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard', 'Bonnet', 'Dupont', 'Lambert',
  'Fontaine', 'Rousseau', 'Vincent', 'Müller', 'Lefebvre', 'Faure', 'André', 'Mercier', 'Blanc', 'Guérin', 'Boyer',
  'Garnier', 'Chevalier', 'François', 'Legrand', 'Gauthier', 'Garcia', 'Perrin', 'Robin', 'Clément', 'Morin', 'Nicolas',
  'Henry', 'Roussel', 'Mathieu', 'Gautier', 'Masson', 'Marchand', 'Duval', 'Denis', 'Dumont', 'Marie', 'Lemaire',
  'Noël', 'Meyer', 'Dufour', 'Meunier', 'Brun', 'Blanchard', 'Giraud', 'Joly', 'Rivière', 'Lucas', 'Brunet', 'Gaillard',
  'Barbier', 'Arnaud', 'Martínez', 'Gérard', 'Roche', 'Renard', 'Schmitt', 'Roy', 'Leroux', 'Colin', 'Vidal', 'Caron',
  'Picard', 'Roger', 'Fabre', 'Aubert', 'Lemoine', 'Renaud', 'Dumas', 'Lacroix', 'Olivier', 'Philippe', 'Bourgeois',
  "N'Guessan", 'Çelik', 'Nguyen', 'Diallo', 'Traoré', 'Benali', 'Haddad', "D'Almeida", 'Le Gall', 'Le Goff', 'Kerouac',
  'Ødegaard', 'Yılmaz', 'Da Silva', 'Ferreira', 'Lebœuf', 'Désiré', 'Pécresse', 'Hébert', 'Bézier', 'Lévêque', 'Crépin',
];

/** Collège names for structures beyond the first (benchmarks at scale). */
export const SCHOOL_NAMES = [
  'Denis Poisson', 'Jean Moulin', 'Victor Hugo', 'Jules Ferry', 'Marie Curie', 'Louise Michel', 'Jean Jaurès', 'Paul Éluard',
  'Simone Veil', 'Albert Camus', 'Jacques Prévert', 'Georges Brassens', 'Olympe de Gouges', 'Aimé Césaire', 'Joséphine Baker',
  'Émile Zola', 'Gisèle Halimi', 'Antoine de Saint-Exupéry', 'Colette', 'Honoré de Balzac',
];

export const STAFF_FUNCTIONS = ['Principal', 'Principale adjointe', 'CPE', 'Gestionnaire', 'Secrétaire', 'Infirmière', 'Documentaliste', 'AED', 'Agent'];
