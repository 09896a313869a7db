/**
 * `acmeFetch`: a fetch on undici that trusts a given CA (for Pebble or a private ACME server);
 * verification stays on.
 */
import { Agent, fetch as undiciFetch } from 'undici';

/** Options of {@link acmeFetch}. */
export interface AcmeFetchOptions {
  /** PEM CA certificate(s) to trust instead of the system store (e.g. Pebble's). */
  readonly ca?: string | readonly string[];
  /** Called after every response with method, URL, status and milliseconds (to count requests). */
  readonly onResponse?: (info: { method: string; url: string; status: number; ms: number }) => void;
}

/**
 * A `fetch` for {@link AcmeClient} on undici that trusts `ca` when given (verification stays
 * on; there is no option to turn it off).
 */
export function acmeFetch(options: AcmeFetchOptions = {}): typeof fetch {
  const dispatcher = options.ca
    ? new Agent({ connect: { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } })
    : undefined;
  const onResponse = options.onResponse;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const started = performance.now();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await undiciFetch(url, {
      ...(init as Record<string, unknown>),
      ...(dispatcher ? { dispatcher } : {}),
    });
    if (onResponse) {
      const noBody = init?.method === 'HEAD' || [101, 204, 205, 304].includes(res.status);
      const text = noBody ? '' : await res.text();
      onResponse({
        method: init?.method ?? 'GET',
        url,
        status: res.status,
        ms: performance.now() - started,
      });
      return new Response(noBody ? null : text, {
        status: res.status,
        headers: res.headers as unknown as Headers,
      });
    }
    return res as unknown as Response;
  }) as typeof fetch;
}
