/** Placeholder page (portal part 2). */
export function CertificatesPage() {
  return <h1>…</h1>;
}
