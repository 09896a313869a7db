/**
 * The verifier core: checks a log's chain, checkpoints and signatures from its bytes,
 * offline, in one streaming pass. Web-platform code; the CLI and `verifyPath` feed it files.
 */
import { fromBase64url, fromUtf8, hex32, toBase64url, toHex, utf8 } from './encoding.js';
import { AuditError } from './errors.js';
import { checkVerifyingKeys, type VerifyingKey, verifyingKeyFromRaw } from './keys.js';
import { EMPTY_TREE_ROOT, leafHash, MerkleFrontier } from './merkle.js';
import { sha256, sha256Latin1 } from './primitives.js';
import { type Checkpoint, GENESIS_HASH, verifyCheckpointSignature } from './record.js';

/**
 * What a finding says went wrong.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type FindingCode, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * // No close(): the log ends without a closing checkpoint.
 * const codes: FindingCode[] = verifyLines(store.lines(), { publicKeys: [signingKey] }).findings.map((f) => f.code);
 * assert.deepEqual(codes, ['truncated']);
 * await log.close();
 * ```
 */
export type FindingCode =
  /** A record's content does not match its hash (modified in place). */
  | 'hash-mismatch'
  /** A record's previous hash does not match the record before it (replaced or re-hashed). */
  | 'chain-break'
  /** Sequence numbers `from`..`to` are absent (deleted records or segments). */
  | 'missing-range'
  /** A record appears after a later one (records were moved). */
  | 'reordered'
  /** A sequence number appears twice. */
  | 'duplicate'
  /** A line is not a record. */
  | 'malformed'
  /** A checkpoint's signature does not verify under the key in force. */
  | 'bad-signature'
  /** A checkpoint is signed by a key that is neither pinned nor announced by a rotation. */
  | 'unknown-key'
  /** A checkpoint's size, head or log id contradicts the chain. */
  | 'checkpoint-mismatch'
  /** The log ends without a closing checkpoint: records after the last one may be gone. */
  | 'truncated'
  /** The last line is incomplete (a crash mid-write, or a cut file). */
  | 'torn-tail'
  /** A trusted checkpoint kept elsewhere (`anchor`) does not match the log. */
  | 'anchor-mismatch'
  /** The log has no checkpoint at all, so nothing in it is signed. */
  | 'no-checkpoint'
  /**
   * The log has no records at all: every log starts with a signed `open` checkpoint, so it
   * was emptied (or the path is not the log). Not a finding with `allowEmpty`.
   */
  | 'empty-log';

/**
 * One problem found by the verifier.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type Finding, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * for (let i = 0; i < 3; i++)
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const lines = store.lines();
 * lines.splice(2, 1); // delete record 3
 * const [finding]: readonly Finding[] = verifyLines(lines, { publicKeys: [signingKey] }).findings;
 * assert.equal(finding?.code, 'missing-range');
 * assert.deepEqual([finding?.from, finding?.to], [3, 3]);
 * ```
 */
export interface Finding {
  readonly code: FindingCode;
  /** The sequence number concerned (the first of a range). */
  readonly seq?: number;
  /** For ranges: the first and last missing sequence number. */
  readonly from?: number;
  readonly to?: number;
  /** Where: the source (segment file) and 1-based line. */
  readonly source?: string;
  readonly line?: number;
  readonly message: string;
}

/**
 * The result of a verification.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, verifyLines, type VerifyReport } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const report: VerifyReport = verifyLines(store.lines(), { publicKeys: [signingKey] });
 * assert.equal(report.ok, true);
 * assert.equal(report.trust, 'pinned');
 * assert.deepEqual([report.records, report.events, report.checkpoints], [3, 1, 2]);
 * assert.equal(report.logId, log.id);
 * ```
 */
export interface VerifyReport {
  /** True when there is no finding. */
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  /** The smallest sequence number any finding concerns. */
  readonly firstBadSeq: number | undefined;
  readonly records: number;
  readonly events: number;
  readonly checkpoints: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  readonly logId: string | undefined;
  /** The last valid checkpoint. */
  readonly lastCheckpoint: { readonly seq: number; readonly checkpoint: Checkpoint } | undefined;
  /** How the signing key was trusted: pinned by the caller, or the log's first key. */
  readonly trust: 'pinned' | 'first-use' | 'none';
  /** Facts worth knowing that are not findings (rotations, retention, crash recoveries). */
  readonly notes: readonly string[];
  readonly bytes: number;
  /**
   * With `trust: 'first-use'`: the key that was trusted because the log itself carried it.
   * Compare it with the key the writer was configured with (not with the log), then pin it
   * (`publicKeys`, `fluxel-audit verify --public-key <file>`).
   */
  readonly firstUseKey?: FirstUseKey;
}

/**
 * The log's own checkpoint key, trusted on first use (see {@link VerifyReport.firstUseKey}).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createHash } from 'node:crypto';
 * import { AuditLog, type FirstUseKey, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.close();
 * const report = verifyLines(store.lines()); // no key pinned
 * assert.equal(report.trust, 'first-use');
 * const key: FirstUseKey = report.firstUseKey!;
 * assert.equal(key.kid, signingKey.kid); // compare with the key the writer was configured with, then pin it
 * assert.equal(key.fingerprint, createHash('sha256').update(signingKey.publicKey).digest('hex'));
 * ```
 */
export interface FirstUseKey {
  /** Key id: base64url of the first 12 bytes of SHA-256 over the raw public key. */
  readonly kid: string;
  /** The raw public key, base64url: the content of a file for `--public-key`. */
  readonly publicKey: string;
  /** Hex SHA-256 of the raw public key, to compare out of band. */
  readonly fingerprint: string;
}

/**
 * Options of `Verifier` and `verifyPath`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateSigningKey, type VerifyOptions, verifyLines } from '@fluxel/audit';
 *
 * const options: VerifyOptions = {
 *   publicKeys: [generateSigningKey()], // pinned keys; only the public part is used
 *   allowEmpty: true, // no log is expected here yet
 * };
 * assert.equal(verifyLines([], options).ok, true);
 * assert.equal(verifyLines([], { ...options, allowEmpty: false }).findings[0]?.code, 'empty-log');
 * ```
 */
export interface VerifyOptions {
  /**
   * Keys that may sign checkpoints. Without them the key of the log's first `open`
   * checkpoint is trusted on first use (a forger who rewrites the whole log with their own
   * key is then not detected: pin the key).
   */
  readonly publicKeys?: readonly VerifyingKey[];
  /** The log is still being written: an unsigned tail is not a finding. */
  readonly live?: boolean;
  /** A checkpoint kept outside the log (e.g. in the SIEM): the log must contain it. */
  readonly anchor?: { readonly size: number; readonly head: string };
  /** Called with the number of bytes processed so far, about every 4 MiB. */
  readonly onProgress?: (bytes: number) => void;
  /**
   * No log is expected yet: a log without any record (an empty segment file, a directory
   * without segments, an empty table) verifies. Without it an empty log is the finding
   * `empty-log`, since every log starts with a signed `open` checkpoint.
   */
  readonly allowEmpty?: boolean;
}

const HEX_CODES = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CODES[i] = '0123456789abcdef'.charCodeAt(i);
const PREFIX = utf8('{"s":');
const P_MARK = utf8(',"p":"');
const K_MARK = utf8('","k":"');
const H_MARK = utf8(',"h":"');
const SUFFIX = 72;
const GENESIS = utf8(GENESIS_HASH);

function matchAt(buf: Uint8Array, at: number, mark: Uint8Array): boolean {
  for (let i = 0; i < mark.length; i++) if (buf[at + i] !== mark[i]) return false;
  return true;
}

function digestMatchesHex(digest: Uint8Array, buf: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < 32; i++) {
    const b = digest[i] as number;
    diff |=
      ((HEX_CODES[b >> 4] as number) ^ (buf[at + 2 * i] as number)) |
      ((HEX_CODES[b & 15] as number) ^ (buf[at + 2 * i + 1] as number));
  }
  return diff === 0;
}

/** Like {@link digestMatchesHex}, for a digest given as a latin1 string. */
function latin1DigestMatchesHex(digest: string, buf: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < 32; i++) {
    const b = digest.charCodeAt(i);
    diff |=
      ((HEX_CODES[b >> 4] as number) ^ (buf[at + 2 * i] as number)) |
      ((HEX_CODES[b & 15] as number) ^ (buf[at + 2 * i + 1] as number));
  }
  return diff === 0;
}

/** Whether the SHA-256 of `buf[start, end)` is the 64 lower-case hex digits at `hexAt`. */
const latin1Sha256 = sha256Latin1;
const hashMatchesHex: (buf: Uint8Array, start: number, end: number, hexAt: number) => boolean =
  latin1Sha256
    ? (buf, start, end, hexAt) =>
        latin1DigestMatchesHex(latin1Sha256(buf.subarray(start, end)), buf, hexAt)
    : (buf, start, end, hexAt) => digestMatchesHex(sha256(buf.subarray(start, end)), buf, hexAt);

type IndexOf = (this: Uint8Array, byte: number, from: number) => number;
// Node's Buffer#indexOf is memchr (about 10× the generic typed-array search on 500-byte
// lines); it accepts any Uint8Array. Found at run time: this module stays Web-platform code.
const byteIndexOf: IndexOf =
  (globalThis as { Buffer?: { prototype: { indexOf: IndexOf } } }).Buffer?.prototype.indexOf ??
  Uint8Array.prototype.indexOf;

function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

interface Gap {
  from: number;
  to: number;
  source: string | undefined;
  line: number;
}

/**
 * A streaming verifier. Feed it the bytes of each source (segment file) in order with
 * {@link Verifier.push}, call {@link Verifier.endSource} after each, then
 * {@link Verifier.finish}. Memory is constant in the log's size.
 *
 * Per record it checks the hash over the record's bytes, the sequence number and the
 * previous hash; per checkpoint the size, head, log id and the Ed25519 signature under the
 * key in force (pinned, announced by a rotation, or trusted on first use).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, Verifier } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * // Feed bytes in chunks of any size, e.g. from a fetch() body or a Blob stream.
 * const bytes = new TextEncoder().encode(`${store.lines().join('\n')}\n`);
 * const verifier = new Verifier({ publicKeys: [signingKey] });
 * for (let at = 0; at < bytes.length; at += 100) verifier.push(bytes.subarray(at, at + 100), 'segment-1');
 * verifier.endSource();
 * assert.equal(verifier.finish().ok, true);
 * ```
 */
export class Verifier {
  readonly #options: VerifyOptions;
  readonly #findings: Finding[] = [];
  readonly #notes: string[] = [];
  readonly #gaps: Gap[] = [];
  readonly #dropped: { from: number; to: number }[] = [];
  readonly #pinned: Map<string, VerifyingKey>;
  #carry: Uint8Array | undefined;
  #source: string | undefined;
  #line = 0;
  #bytes = 0;
  #nextProgress = 4 << 20;
  #lastSeq = 0;
  #lastHash: Uint8Array = GENESIS;
  #lastHashAt = 0;
  #started = false;
  #firstSeq: number | undefined;
  #records = 0;
  #events = 0;
  #checkpoints = 0;
  #lastCheckpoint: { seq: number; checkpoint: Checkpoint } | undefined;
  #logId: string | undefined;
  #key: VerifyingKey | undefined;
  #trust: 'pinned' | 'first-use' | 'none';
  #firstUseKey: FirstUseKey | undefined;
  #torn = false;
  #lastSigFailed = false;
  #unknownPrev = false;
  #tree: MerkleFrontier | undefined;
  #treeFrom = 0;
  #epochDirty = false;
  #anchorSeen = false;

  constructor(options: VerifyOptions = {}) {
    checkVerifyingKeys(options.publicKeys, 'publicKeys');
    this.#options = options;
    this.#pinned = new Map((options.publicKeys ?? []).map((k) => [k.kid, k]));
    this.#trust = this.#pinned.size > 0 ? 'pinned' : 'none';
  }

  /** Feeds bytes of the current source. */
  push(chunk: Uint8Array, source?: string): void {
    if (source !== this.#source) {
      if (this.#carry) this.endSource();
      this.#source = source;
      this.#line = 0;
    }
    // A plain Uint8Array view: its subarray() is cheaper than a Node Buffer's.
    let buf =
      Object.getPrototypeOf(chunk) === Uint8Array.prototype
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#carry) {
      buf = new Uint8Array(this.#carry.length + chunk.length);
      buf.set(this.#carry, 0);
      buf.set(chunk, this.#carry.length);
      this.#carry = undefined;
    }
    let pos = 0;
    for (;;) {
      const nl = byteIndexOf.call(buf, 10, pos);
      if (nl < 0) break;
      this.#line++;
      if (nl > pos) this.#record(buf, pos, nl);
      pos = nl + 1;
    }
    if (pos < buf.length) this.#carry = buf.slice(pos);
    this.#bytes += chunk.length;
    if (this.#options.onProgress && this.#bytes >= this.#nextProgress) {
      this.#nextProgress = this.#bytes + (4 << 20);
      this.#options.onProgress(this.#bytes);
    }
  }

  /** Marks the end of the current source; an incomplete final line is a finding. */
  endSource(): void {
    if (this.#carry && this.#carry.length > 0) {
      this.#line++;
      this.#torn = true;
      this.#add({
        code: 'torn-tail',
        seq: this.#lastSeq + 1,
        message: `incomplete final line (${this.#carry.length} bytes without a newline) after seq ${this.#lastSeq}`,
      });
    }
    this.#carry = undefined;
  }

  /** Verifies one line given as a string (e.g. from a SQL store). */
  pushLine(line: string, source?: string): void {
    this.push(utf8(`${line}\n`), source);
  }

  #add(finding: Omit<Finding, 'source' | 'line'> & { source?: string; line?: number }): void {
    this.#epochDirty = true;
    this.#findings.push({
      ...finding,
      ...(finding.source === undefined && this.#source !== undefined
        ? { source: this.#source }
        : {}),
      ...(finding.line === undefined ? { line: this.#line } : {}),
    });
  }

  #record(buf: Uint8Array, start: number, end: number): void {
    this.#records++;
    const expected = this.#lastSeq + 1;
    // Fast structural parse: {"s":<digits>,"p":"<64 hex>","k":"<e|c>" … ,"h":"<64 hex>"}
    let seq = -1;
    let kind = 0;
    const len = end - start;
    if (len > SUFFIX + 80 && matchAt(buf, start, PREFIX)) {
      let i = start + 5;
      let n = 0;
      let digits = 0;
      while (digits < 16) {
        const c = buf[i] as number;
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        i++;
        digits++;
      }
      if (
        digits > 0 &&
        matchAt(buf, i, P_MARK) &&
        matchAt(buf, i + 70, K_MARK) &&
        matchAt(buf, end - SUFFIX, H_MARK) &&
        buf[end - 2] === 34 &&
        buf[end - 1] === 125
      ) {
        seq = n;
        kind = buf[i + 77] as number;
        const prevAt = i + 6;
        const hashOk = hashMatchesHex(buf, start, end - SUFFIX, end - 66);
        this.#chain(buf, start, end, seq, prevAt, kind, hashOk, expected);
        return;
      }
    }
    this.#add({
      code: 'malformed',
      seq: expected,
      message: `line ${this.#line} is not a record (expected seq ${expected})`,
    });
    // The line takes position `expected`; the next record's link to it cannot be judged.
    this.#started = true;
    this.#firstSeq ??= expected;
    this.#lastSeq = expected;
    this.#unknownPrev = true;
  }

  #chain(
    buf: Uint8Array,
    start: number,
    end: number,
    claimed: number,
    prevAt: number,
    kind: number,
    hashOk: boolean,
    expected: number,
  ): void {
    if (!hashOk) {
      // The claimed seq may itself be what was modified: the record occupies position `expected`.
      const seq = claimed === expected || !this.#started ? claimed : expected;
      this.#add({ code: 'hash-mismatch', seq, message: `record ${seq} does not match its hash` });
      if (kind === 99) this.#checkpoint(buf, start, end, seq, false);
      this.#advance(seq, buf, end, kind);
      return;
    }
    const seq = claimed;
    if (!this.#started) {
      this.#started = true;
      this.#firstSeq = seq;
      if (seq !== 1)
        this.#gaps.push({ from: 1, to: seq - 1, source: this.#source, line: this.#line });
      else if (!sameBytes(buf, prevAt, GENESIS, 0, 64))
        this.#add({
          code: 'chain-break',
          seq,
          message: 'record 1 does not start from the genesis hash',
        });
    } else if (seq === expected) {
      if (!this.#unknownPrev && !sameBytes(buf, prevAt, this.#lastHash, this.#lastHashAt, 64))
        this.#add({
          code: 'chain-break',
          seq,
          message: `record ${seq} does not link to record ${seq - 1} (previous hash differs)`,
        });
    } else if (seq > expected) {
      this.#gaps.push({ from: expected, to: seq - 1, source: this.#source, line: this.#line });
      this.#epochDirty = true;
    } else {
      // A sequence number we have passed: moved here from earlier, or repeated.
      const gap = this.#gaps.find((g) => g.from <= seq && seq <= g.to);
      if (gap) {
        if (gap.from === gap.to) this.#gaps.splice(this.#gaps.indexOf(gap), 1);
        else if (seq === gap.from) gap.from++;
        else if (seq === gap.to) gap.to--;
        else {
          this.#gaps.push({ from: seq + 1, to: gap.to, source: gap.source, line: gap.line });
          gap.to = seq - 1;
        }
        this.#add({
          code: 'reordered',
          seq,
          message: `record ${seq} appears after record ${this.#lastSeq}`,
        });
      } else this.#add({ code: 'duplicate', seq, message: `record ${seq} appears more than once` });
      if (kind === 99) this.#checkpoint(buf, start, end, seq, true);
      return;
    }
    if (kind === 99) this.#checkpoint(buf, start, end, seq, true);
    this.#advance(seq, buf, end, kind);
  }

  #advance(seq: number, buf: Uint8Array, end: number, kind: number): void {
    this.#started = true;
    this.#unknownPrev = false;
    this.#firstSeq ??= seq;
    this.#lastSeq = seq;
    // Keep a reference to the hash bytes (chunks are never modified), no copy.
    this.#lastHash = buf;
    this.#lastHashAt = end - 66;
    const anchor = this.#options.anchor;
    if (anchor && seq === anchor.size) {
      this.#anchorSeen = true;
      if (fromUtf8(buf.subarray(end - 66, end - 2)) !== anchor.head)
        this.#add({
          code: 'anchor-mismatch',
          seq,
          message: `record ${seq} differs from the trusted checkpoint's head`,
        });
    }
    if (kind !== 99) {
      this.#events++;
      this.#lastSigFailed = false;
    }
    this.#tree?.add(leafHash(hex32(buf, end - 66)));
  }

  #checkpoint(buf: Uint8Array, start: number, end: number, seq: number, inOrder: boolean): void {
    this.#checkpoints++;
    this.#lastSigFailed = true;
    let parsed: { c?: Checkpoint; sig?: string; p?: string } | undefined;
    try {
      parsed = JSON.parse(fromUtf8(buf.subarray(start, end))) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const c = parsed?.c;
    if (!c || typeof c !== 'object' || typeof parsed?.sig !== 'string') {
      this.#add({ code: 'malformed', seq, message: `checkpoint ${seq} cannot be parsed` });
      return;
    }
    // Which key must have signed it?
    let key: VerifyingKey | undefined;
    if (this.#pinned.size > 0) {
      key = this.#pinned.get(c.kid) ?? (this.#key?.kid === c.kid ? this.#key : undefined);
    } else if (this.#key) {
      key = this.#key.kid === c.kid ? this.#key : undefined;
    } else if (typeof c.key === 'string') {
      try {
        const candidate = verifyingKeyFromRaw(fromBase64url(c.key));
        if (candidate.kid === c.kid) {
          key = candidate;
          this.#trust = 'first-use';
          this.#firstUseKey = {
            kid: candidate.kid,
            publicKey: toBase64url(candidate.publicKey),
            fingerprint: toHex(sha256(candidate.publicKey)),
          };
          this.#notes.push(
            `checkpoint key ${c.kid} trusted on first use (pin it with a public key)`,
          );
        }
      } catch {
        key = undefined;
      }
    }
    if (!key) {
      this.#add({
        code: 'unknown-key',
        seq,
        message: `checkpoint ${seq} is signed by key ${c.kid}, which is neither pinned nor announced`,
      });
      return;
    }
    if (!verifyCheckpointSignature(c, parsed.sig, key.publicKey)) {
      this.#add({
        code: 'bad-signature',
        seq,
        message: `checkpoint ${seq} has an invalid signature (key ${c.kid})`,
      });
      return;
    }
    this.#lastSigFailed = false;
    this.#key = key;
    if (this.#logId === undefined) this.#logId = c.log;
    else if (c.log !== this.#logId)
      this.#add({
        code: 'checkpoint-mismatch',
        seq,
        message: `checkpoint ${seq} belongs to log ${c.log}, not ${this.#logId}`,
      });
    if (c.size !== seq - 1 || c.head !== parsed.p)
      this.#add({
        code: 'checkpoint-mismatch',
        seq,
        message: `checkpoint ${seq} does not cover the records before it`,
      });
    this.#checkTree(c, seq);
    if (c.next) {
      try {
        const next = verifyingKeyFromRaw(fromBase64url(c.next.key));
        if (next.kid !== c.next.kid) throw new Error('kid');
        this.#key = next;
        this.#notes.push(`signing key rotated at seq ${seq} from ${c.kid} to ${next.kid}`);
      } catch {
        this.#add({
          code: 'checkpoint-mismatch',
          seq,
          message: `checkpoint ${seq} announces a malformed key`,
        });
      }
    }
    if (c.dropped) {
      this.#dropped.push({ from: c.dropped.from, to: c.dropped.to });
      this.#notes.push(
        `records ${c.dropped.from}..${c.dropped.to} dropped by retention (checkpoint ${seq})`,
      );
    }
    if (c.recovered)
      this.#notes.push(
        `writer recovered after a crash at checkpoint ${seq}: ${c.recovered.truncatedBytes} bytes of an unacknowledged final line removed`,
      );
    if (inOrder) this.#lastCheckpoint = { seq, checkpoint: c };
  }

  #checkTree(c: Checkpoint, seq: number): void {
    if (c.reason === 'open') {
      if (!c.tree) {
        this.#tree = undefined;
        return;
      }
      if (c.tree.from !== seq || c.tree.root !== EMPTY_TREE_ROOT)
        this.#add({
          code: 'checkpoint-mismatch',
          seq,
          message: `checkpoint ${seq} opens a Merkle tree that is not empty`,
        });
      this.#tree ??= new MerkleFrontier();
      this.#tree.reset();
      this.#treeFrom = seq;
      this.#epochDirty = false;
      return;
    }
    // A checkpoint without a tree (e.g. `rotate`/`recover` at a session start) is not checked
    // against one; the signed tree cannot be stripped from those that have it.
    if (!c.tree) return;
    const ok =
      c.tree && this.#tree && c.tree.from === this.#treeFrom && c.tree.root === this.#tree.root();
    // Records already reported missing, moved or damaged make the root differ too: say it once.
    if (!ok && !this.#epochDirty)
      this.#add({
        code: 'checkpoint-mismatch',
        seq,
        message: `checkpoint ${seq}'s Merkle root does not match the records ${this.#treeFrom}..${seq - 1}`,
      });
  }

  /** Ends the last source and returns the report. */
  finish(): VerifyReport {
    if (this.#carry) this.endSource();
    for (const gap of this.#gaps) {
      const covered = this.#dropped.some((d) => d.from <= gap.from && gap.to <= d.to);
      if (covered) continue;
      this.#add({
        code: 'missing-range',
        seq: gap.from,
        from: gap.from,
        to: gap.to,
        ...(gap.source !== undefined ? { source: gap.source } : {}),
        line: gap.line,
        message:
          gap.from === gap.to
            ? `record ${gap.from} is missing`
            : `records ${gap.from}..${gap.to} are missing`,
      });
    }
    const last = this.#lastCheckpoint;
    if (
      this.#records > 0 &&
      !last &&
      !this.#findings.some((f) => f.code === 'unknown-key' || f.code === 'bad-signature')
    )
      this.#add({
        code: 'no-checkpoint',
        message: 'the log has no valid checkpoint; nothing in it is signed',
      });
    else if (
      last &&
      !this.#options.live &&
      !this.#torn &&
      !this.#lastSigFailed &&
      (last.seq !== this.#lastSeq || last.checkpoint.reason !== 'close')
    ) {
      this.#add({
        code: 'truncated',
        seq: last.seq + 1,
        message:
          last.seq === this.#lastSeq
            ? `the log ends at checkpoint ${last.seq} (${last.checkpoint.reason}) without a closing checkpoint: records after it may have been removed`
            : `the log ends at seq ${this.#lastSeq} without a closing checkpoint; records ${last.seq + 1}..${this.#lastSeq} are unsigned and later ones may have been removed`,
      });
    } else if (last && this.#options.live && last.seq !== this.#lastSeq)
      this.#notes.push(
        `records ${last.seq + 1}..${this.#lastSeq} are not yet covered by a checkpoint`,
      );
    if (this.#records === 0 && this.#findings.length === 0 && !this.#options.allowEmpty)
      this.#add({
        code: 'empty-log',
        message:
          'the log is empty: every log starts with a signed open checkpoint, so it was emptied or this is not the log (allow an empty log only where none is expected yet)',
      });
    const anchor = this.#options.anchor;
    if (anchor && !this.#anchorSeen)
      this.#add({
        code: 'truncated',
        seq: anchor.size,
        message: `the log does not reach the trusted checkpoint at size ${anchor.size}`,
      });
    const seqs = this.#findings.map((f) => f.seq).filter((s): s is number => s !== undefined);
    this.#findings.sort(
      (a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER),
    );
    return {
      ok: this.#findings.length === 0,
      findings: this.#findings,
      firstBadSeq: seqs.length > 0 ? Math.min(...seqs) : undefined,
      records: this.#records,
      events: this.#events,
      checkpoints: this.#checkpoints,
      firstSeq: this.#firstSeq,
      lastSeq: this.#started ? this.#lastSeq : undefined,
      logId: this.#logId,
      lastCheckpoint: last,
      trust: this.#trust,
      notes: this.#notes,
      bytes: this.#bytes,
      ...(this.#trust === 'first-use' && this.#firstUseKey
        ? { firstUseKey: this.#firstUseKey }
        : {}),
    };
  }
}

/**
 * Throws unless a report is clean — for code paths that must stop on tampering
 * (`assertVerified(await verifyPath(dir, { publicKeys }))`).
 *
 * @throws `AuditError` `ERR_AUDIT_VERIFICATION_FAILED` naming the first finding; the
 * report is on `cause`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, AuditLog, assertVerified, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.close();
 * assertVerified(verifyLines(store.lines(), { publicKeys: [signingKey] })); // passes
 * assert.throws(
 *   () => assertVerified(verifyLines(store.lines(), { publicKeys: [generateSigningKey()] })),
 *   (error) => AuditError.isInstance(error) && error.code === 'ERR_AUDIT_VERIFICATION_FAILED',
 * );
 * ```
 */
export function assertVerified(report: VerifyReport): void {
  if (report.ok) return;
  const first = report.findings[0];
  throw new AuditError(
    'ERR_AUDIT_VERIFICATION_FAILED',
    `audit log verification failed: ${report.findings.length} finding(s), first ${first?.code}${first?.seq !== undefined ? ` at seq ${first.seq}` : ''}`,
    { cause: report },
  );
}

/**
 * Verifies a whole log given as record lines (strings without `\n`), e.g. from SQL.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, verifyLines } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' });
 * await log.close();
 * const lines = store.lines(); // e.g. the `line` column of the SQL store
 * assert.equal(verifyLines(lines, { publicKeys: [signingKey] }).ok, true);
 * lines[1] = lines[1]!.replace('failure', 'success'); // edit in place
 * assert.equal(verifyLines(lines, { publicKeys: [signingKey] }).findings[0]?.code, 'hash-mismatch');
 * ```
 */
export function verifyLines(lines: Iterable<string>, options: VerifyOptions = {}): VerifyReport {
  const verifier = new Verifier(options);
  for (const line of lines) verifier.pushLine(line);
  return verifier.finish();
}

/**
 * Verifies a log from its sources' bytes (each an async or sync iterable of chunks).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, verifyChunks } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.close();
 * // Chunks as they arrive, e.g. from a segment downloaded from object storage.
 * async function* download(): AsyncIterable<Uint8Array> {
 *   const bytes = new TextEncoder().encode(`${store.lines().join('\n')}\n`);
 *   for (let at = 0; at < bytes.length; at += 64) yield bytes.subarray(at, at + 64);
 * }
 * const report = await verifyChunks([{ name: 'segment-1.log', chunks: download() }], { publicKeys: [signingKey] });
 * assert.equal(report.ok, true);
 * ```
 */
export async function verifyChunks(
  sources: Iterable<{ name: string; chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> }>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const verifier = new Verifier(options);
  for (const { name, chunks } of sources) {
    for await (const chunk of chunks) verifier.push(chunk, name);
    verifier.endSource();
  }
  return verifier.finish();
}
