// Small invented AAF feeds written by the tests themselves: one <addRequest> per person or structure, a file's XML.

/**
 * One AAF record: `cat` its category (EtabEducNat is a structure, the others persons), `id` its identifier, `attrs`
 * its attributes with their values in order.
 */
export function aafRecord(cat: string, id: string, attrs: [string, string[]][]): string {
  return (
    `<addRequest>\n<operationalAttributes><attr name="categorie${cat === 'EtabEducNat' ? 'Structure' : 'Personne'}"><value>${cat}</value></attr></operationalAttributes>\n` +
    `<identifier><id>${id}</id></identifier>\n<attributes>\n` +
    attrs.map(([n, vs]) => `<attr name="${n}">${vs.map((v) => `<value>${v}</value>`).join('')}</attr>`).join('\n') +
    '\n</attributes>\n</addRequest>\n'
  );
}

/** A whole AAF file (UTF-8, root ficAlimMENESR) around records made by aafRecord. */
export function aafXml(body: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n${body}</ficAlimMENESR>\n`);
}
