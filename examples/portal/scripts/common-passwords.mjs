#!/usr/bin/env node
/**
 * Generates `data/common-passwords.txt`, the offline list of common passwords that
 * `src/features/auth/password.ts` refuses (NIST SP 800-63B §3.1.1.2 / ASVS 5.0 V6.2: check new
 * passwords against a list of commonly used, expected or compromised values).
 *
 * Source: no third-party list is copied. No password-list package is in the pnpm store, and
 * the large public dumps have unclear licences, so the list is generated here from
 *   - a hand-written set of base words that every published "most common passwords" ranking
 *     leads with (English and German: password, qwerty, iloveyou, passwort, hallo, schatz …),
 *     plain facts written out by hand, not taken from any file;
 *   - keyboard walks (QWERTY and QWERTZ rows, columns, diagonals) and digit/letter sequences;
 *   - the usual decorations: appended digit runs, years 1950–2035, `!`, a few prefixes
 *     ("my", "mein", "123") and two leet spellings.
 * Only entries of 12 to 128 characters are written: shorter ones are refused by the length rule
 * anyway. Repeated short patterns and pure sequences ("abcabcabcabc", "123412341234") are
 * refused by code in password.ts, not by this list.
 *
 * Run: `node scripts/common-passwords.mjs` (from examples/portal). Output is sorted, lowercase,
 * one per line, deterministic.
 */
import { writeFileSync } from 'node:fs';

const BASES = `
password passwort passwd pass word secret geheim kennwort letmein welcome willkommen
iloveyou ihateyou iloveu loveyou ichliebedich liebe love lover loveme
hallo hello hallo123 hi there admin administrator root user guest login test tester testing
default changeme change qwerty qwertz azerty asdf asdfgh asdfghjkl qwert qwertyu qwertyui
dragon monkey football fussball soccer baseball basketball hockey tennis golf
sunshine princess prinzessin master shadow superman batman spiderman starwars startrek
trustno1 whatever freedom forever nothing something somebody
michael jennifer jessica ashley daniel thomas andreas stefan stephan christian alexander
sabine nicole julia lisa anna sarah laura maria michelle robert jordan hunter ranger
charlie buster tigger pepper ginger maggie bailey bella lucky sunny
schatz schatzi hase hasi maus mausi baerchen engel teufel sonne mond sterne
sommer winter fruehling herbst summer autumn spring january
berlin hamburg muenchen munich koeln cologne frankfurt stuttgart dortmund wien zuerich
bayern schalke borussia werder eintracht deutschland germany england london america
computer internet samsung google apple microsoft windows linux android iphone
pokemon minecraft fortnite roblox matrix ninja killer hacker
cheese chocolate cookie banana orange lemon purple yellow silver golden diamond
money dollar euro millionaire rich success winner
jesus christ heaven angel blessed
mustang ferrari porsche mercedes corvette harley yamaha
abc abcd abcdef abc123 qazwsx zaq1 zaq12wsx 1qaz2wsx 1q2w3e4r 1q2w3e 1q2w3e4r5t
aaaaaa 111111 123123 121212 654321 696969 666666 777777 987654321 112233
letmein welcome1 password1 passw0rd p4ssw0rd pa55word pa55w0rd
mypassword mypasswort newpassword neuespasswort meinpasswort yourpassword thepassword
secretpassword supersecret topsecret strenggeheim privat private
superstar rockstar princess1 babygirl sweetheart honey sweety cutie
fluxel portal lizenz license
`
  .split(/\s+/)
  .filter(Boolean);

const WALKS = [
  'qwertyuiop',
  'qwertzuiop',
  'asdfghjkl',
  'yxcvbnm',
  'zxcvbnm',
  'azertyuiop',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  '1qaz2wsx3edc4rfv5tgb6yhn',
  '1qay2wsx3edc4rfv5tgb6zhn',
  'qazwsxedcrfvtgbyhnujm',
  'zaq12wsxcde34rfvbgt56yhn',
  '1q2w3e4r5t6y7u8i9o0p',
  '1q2w3e4r5t6z7u8i9o0p',
  'q1w2e3r4t5y6u7i8o9p0',
  'qweasdzxc',
  'qweasdyxc',
  'asdfjkl',
  'poiuytrewq',
  'lkjhgfdsa',
  'mnbvcxz',
  '1234567890',
  '0987654321',
  '!@#$%^&*()',
  '!"§$%&/()=',
];

const DIGIT_RUNS = ['1', '12', '123', '1234', '12345', '123456', '1234567', '12345678'];
const SUFFIXES = new Set(['', '!', '!!', '?', '.', '#', '0', '00', '01', '007', '69', '99']);
for (const run of DIGIT_RUNS) {
  SUFFIXES.add(run);
  SUFFIXES.add(`${run}!`);
  SUFFIXES.add(`!${run}`);
}
for (let year = 1950; year <= 2035; year++) {
  SUFFIXES.add(String(year));
  SUFFIXES.add(`${year}!`);
  SUFFIXES.add(String(year).slice(2));
}
const SHORT_SUFFIXES = ['', '!', ...DIGIT_RUNS, ...DIGIT_RUNS.map((run) => `${run}!`)];
const PREFIXES = ['1', '123', '1234', 'my', 'mein', 'the', 'i'];

const LEET = { a: '@', e: '3', i: '1', o: '0', s: '$', t: '7' };
const leet = (word) => word.replace(/[aeiost]/g, (c) => LEET[c]);
const leetSoft = (word) => word.replace(/[aeo]/g, (c) => ({ a: '4', e: '3', o: '0' })[c]);

const out = new Set();
const add = (candidate) => {
  const value = candidate.normalize('NFKC').toLowerCase();
  const length = [...value].length;
  if (length >= 12 && length <= 128) out.add(value);
};

for (const word of BASES) {
  // Plain words take every decoration; prefixed and leet variants only the short ones.
  for (const suffix of SUFFIXES) add(word + suffix);
  for (const prefix of PREFIXES) for (const suffix of SHORT_SUFFIXES) add(prefix + word + suffix);
  for (const variant of [leet(word), leetSoft(word)])
    for (const suffix of SHORT_SUFFIXES) add(variant + suffix);
  add(word + word);
  add(`${word}${word}1`);
  add(`${word}${[...word].reverse().join('')}`);
}
for (const walk of WALKS) {
  for (let end = 8; end <= walk.length; end++) {
    const part = walk.slice(0, end);
    for (const suffix of SHORT_SUFFIXES) add(part + suffix);
  }
  for (let start = 1; start + 12 <= walk.length; start++) add(walk.slice(start));
}
for (const a of BASES)
  for (const b of ['password', 'passwort', 'love', 'iloveyou', 'qwerty']) {
    add(a + b);
    add(b + a);
  }

writeFileSync(
  new URL('../data/common-passwords.txt', import.meta.url),
  `${[...out].sort().join('\n')}\n`,
);
console.log(`wrote ${out.size} passwords to data/common-passwords.txt`);
