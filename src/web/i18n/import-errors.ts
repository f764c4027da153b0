// Import refusals (src/import/messages.ts) as the web shows them: French from the import's own table, English here.
import { IMPORT_MESSAGES_FR, type ImportCode } from '../../import/messages.js';
import type { Catalogue } from './types.js';

const EN: Record<ImportCode, string> = {
  archiveInArchive: 'archive inside the archive: upload its files or the archive itself',
  fileRefused: 'file refused, {reason}',
  uaiMismatch: 'file of school {uai}, not of “{name}” ({expected})',
  csvNeedsStructure: 'say which school the CSV files are for',
  otherScript: 'file that seems encoded in {encoding} (another alphabet), unreadable as French text: save it as UTF-8',
  mixedEncoding: 'mixed encodings: UTF-8 and another encoding (byte 0x{byte}); save the whole file as UTF-8',
  undecodableByte: 'unreadable encoding (byte 0x{byte}, read as {encoding}): save the file as UTF-8',
  undecodableChar: 'unreadable encoding (character U+{char}, read as {encoding}): save the file as UTF-8',
  csvEmpty: 'empty file: the first line must hold the column headers',
  csvMalformed: 'malformed CSV: {detail}',
  csvNoProfile: 'profile not found: name the file CSV_Eleves, CSV_Enseignants, CSV_Personnels, CSV_Parents or CSV_Invites, or add a “Profil” column',
  csvMissingColumn: 'required column “{column}” missing',
  xmlBadEncoding: 'unreadable encoding: the file does not follow the encoding it declares ({encoding})',
  xmlMalformed: 'malformed XML: {detail}',
  stsNoId: 'person identifier missing',
  siecleNoUai: 'school UAI missing: the file does not say which school it comes from',
  siecleBadUai: 'invalid UAI “{uai}” (expected: 7 digits and a letter)',
  siecleNoStudentId: 'student identifier (ELEVE_ID) missing',
  siecleNoPersonId: 'person identifier (PERSONNE_ID) missing',
  zipUnreadable: 'unreadable .zip archive: {detail}',
  zipTooManyFiles: 'more than {max} files in the archive',
  zipBadName: '{member}: {detail}',
  zipEncrypted: '{member}: encrypted file (password-protected archive): upload an archive without a password',
  zipMemberTooBig: '{member}: file too large once uncompressed ({size}, at most {max})',
  zipTooBig: 'archive too large once uncompressed (at most {max})',
  zipMemberOverflow: '{member}: content larger than declared or than the limit ({max})',
  formatEmpty: 'empty file',
  formatSpreadsheet: 'spreadsheet workbook: save it as CSV',
  formatBadZip: 'unreadable .zip archive',
  formatXmlNoRoot: 'XML file without a recognisable root element',
  formatStsUpward: 'file going up to STS-web (emp_sts): upload the downward export sts_emp_<UAI>_<year>.xml',
  formatUnknownXml: 'unrecognised XML format (root element <{root}>): accepted formats AAF, SIECLE, STS-web',
  formatUnknown: 'unrecognised format ({ext}): accepted formats AAF, SIECLE, STS-web (XML), CSV, .zip archive',
  forbiddenNotAdmin: 'importing is for administrators',
  forbiddenAcademicFeed: 'academic directory (AAF) file: only super admins may import it',
  forbiddenOtherSchool: 'file of school {uai}: only the school holding this UAI may receive it',
  forbiddenNeedStructure: 'say which school this file is for',
  forbiddenStructureNotFound: 'school “{name}” not found among yours',
  forbiddenStructure: 'structure “{name}”{uai} outside your scope',
  rowUnknownProfile: 'unknown profile “{value}” (expected: élève, enseignant, personnel, parent or invité)',
  rowEmptyField: 'required field empty',
  rowMissingColumn: 'required column “{column}” missing for this profile',
  rowInvalidDate: 'invalid date “{value}” (expected DD/MM/YYYY)',
  rowInvalidEmail: 'invalid email address “{value}”: not imported',
  rowChildIncomplete: 'child {n} incomplete: last and first names expected',
  rowNameTooLong: 'name of {length} characters (at most {max}): row skipped',
  rowNoLetter: '“{name}” holds no letter: row skipped',
  rowFutureBirth: 'date of birth {date} in the future: row skipped',
};

type Prefixed<T extends string> = `importError.${T}`;
const prefix = (o: Record<ImportCode, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`importError.${k}`, v])) as Record<Prefixed<ImportCode>, string>;

export const importErrorsCatalogue = { fr: prefix(IMPORT_MESSAGES_FR), en: prefix(EN) } satisfies Catalogue;
