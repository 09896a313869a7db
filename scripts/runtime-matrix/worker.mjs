// Launcher for workerd (bundled with esbuild, run by miniflare): POST /produce?runtime=<name>
// or POST /consume with the vectors as the body; answers the result as JSON.
import { consume, describe, produce } from './roundtrip.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      const result =
        url.pathname === '/produce'
          ? await produce(url.searchParams.get('runtime'))
          : await consume(await request.json());
      return Response.json(result);
    } catch (error) {
      return Response.json({ fatal: describe(error) });
    }
  },
};
