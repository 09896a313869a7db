/** Placeholder page (portal part 2). */
export function StatusPage() {
  return <h1>…</h1>;
}
