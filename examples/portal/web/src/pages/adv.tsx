/** Placeholder page (portal part 2). */
export function AdvPage() {
  return <h1>…</h1>;
}
