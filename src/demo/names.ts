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

/**
 * Postal addresses of the demo's legal representatives (invented: real street types and towns of the Loiret,
 * made-up numbers and pairings), written as SIECLE gives them — upper case, one line per row, the complement
 * line before the street (NF Z 10-011), « code postal + commune » last.
 */
export const STREET_TYPES = ['RUE', 'RUE', 'RUE', 'AVENUE', 'ALLÉE', 'CHEMIN', 'IMPASSE', 'PLACE', 'BOULEVARD', 'ROUTE'];
export const STREET_NAMES = [
  'DES LILAS', 'DU MOULIN', 'DE LA GARE', 'DES ÉCOLES', 'VICTOR HUGO', 'JEAN JAURÈS', 'DU CHÂTEAU', 'DES ACACIAS',
  'DE LA FONTAINE', 'PASTEUR', 'DES TILLEULS', 'DU STADE', 'SAINT-GEORGES', 'DES GRANDS CHAMPS', 'DE L’ÉGLISE',
  'DU 8 MAI 1945', 'DES ROSIERS', 'DE BEAUCE', 'DU GÂTINAIS', 'DES VIGNES', 'ANATOLE FRANCE', 'DES PRÉS',
  'DE LA CROIX BLANCHE', 'MARIE CURIE', 'DES MARRONNIERS', 'DE LA MAIRIE', 'DU LAVOIR', 'DES CERISIERS',
];
export const ADDRESS_COMPLEMENTS = ['BÂTIMENT B', 'RÉSIDENCE LES TILLEULS', 'APPARTEMENT 12', 'ESCALIER 2', 'LE CLOS FLEURI', 'BÂTIMENT C APPARTEMENT 4'];
export const TOWNS = [
  '45300 PITHIVIERS', '45300 PITHIVIERS', '45300 PITHIVIERS', '45300 DADONVILLE', '45300 BONDAROY', '45300 ESTOUY',
  '45300 SERMAISES', '45170 NEUVILLE-AUX-BOIS', '45480 OUTARVILLE', '45390 PUISEAUX', '45300 ASCOUX', '45300 BOYNES',
];
