/** One part of a multipart/form-data body: a text field, or a file part when `filename` is given. */
export interface FormPart {
  readonly name: string;
  readonly value: string;
  readonly filename?: string;
}

export const field = (name: string, value: string): FormPart => ({ name, value });
export const filePart = (content: string, name = 'file', filename = 'rules.csv'): FormPart => ({
  name,
  value: content,
  filename,
});

/** The body and content type of a multipart/form-data request with these parts, in this order. */
export function multipartBody(parts: readonly FormPart[]): { payload: Buffer; contentType: string } {
  const boundary = '----cgboundary7d1';
  const text = parts.map((p) =>
    p.filename === undefined
      ? `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`
      : `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: text/csv\r\n\r\n${p.value}\r\n`,
  );
  return {
    payload: Buffer.from(`${text.join('')}--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
