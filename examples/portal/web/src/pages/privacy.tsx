/** Placeholder page (portal part 2). */
export function PrivacyPage() {
  return <h1>…</h1>;
}
