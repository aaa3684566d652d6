/**
 * got, set up once for the sender's POSTs: what got would otherwise work out again for every request (merging
 * the options given per call into the instance's, parsing the URL, building Node's request options) is done
 * once per URL, and every request starts from that.
 * @module
 */
import got, { type ExtendOptions, type Got, type HandlerFunction, Options, type Request } from 'got';

/** Node's request options as got builds them. */
type NativeRequestOptions = ReturnType<Options['createNativeRequestOptions']>;

/**
 * Node's request options per URL object: everything in them but the headers depends only on the instance's
 * options and the URL, and every request to a URL shares its prepared URL object (got copies it by reference).
 */
const nativeOptionsByUrl = new WeakMap<URL, NativeRequestOptions>();

/**
 * `createNativeRequestOptions()` for a request to a prepared URL: got's own result for the first request to it,
 * without its undefined properties, with each later request's headers. got builds that object per request in
 * one literal of about 35 properties (mostly TLS options, undefined on plain HTTP) after two spreads, which V8
 * (Node 20) runs on a slow path: 50–150 µs per request; and Node's `http.request()` and agent copy every
 * property again, undefined or not (a few tens of µs more). A spread of the stored object, with the defined
 * properties only, and one more property costs well under 1 µs; Node reads an undefined option as an absent one.
 */
function reusedNativeRequestOptions(this: Options): NativeRequestOptions {
  const { url } = this;
  let template = url instanceof URL ? nativeOptionsByUrl.get(url) : undefined;
  if (template === undefined) {
    const native = Options.prototype.createNativeRequestOptions.call(this);
    template = Object.fromEntries(
      Object.entries(native).filter(([, value]) => value !== undefined),
    ) as NativeRequestOptions;
    if (url instanceof URL) nativeOptionsByUrl.set(url, template);
  }
  return { ...template, headers: this.headers };
}

/** got's last stop before sending: installs {@link reusedNativeRequestOptions} on the request's options. */
const reuseNativeRequestOptions: HandlerFunction = (options, next) => {
  options.createNativeRequestOptions = reusedNativeRequestOptions;
  return next(options);
};

/**
 * A got instance for one-shot POSTs, and requests prepared from it per URL: `post()` starts a request from the
 * URL's prepared {@link Options} (`got(undefined, undefined, options)`: a copy, nothing merged, no URL parsed)
 * and returns got's stream. got still does the rest (its request stream, Node's `http.request`, timings,
 * decompression of a compressed answer), so that it stays as interceptable (nock) and configurable (agents, TLS)
 * as any got request.
 */
export class PreparedGot {
  readonly #client: Got;
  /** The last URL's prepared options: a transport sends to one URL (or to very few). */
  #url: string | undefined;
  #prepared: Options | undefined;
  /** The instance's headers: a request's go over them (got's setter replaces them all). */
  #baseHeaders: Readonly<Record<string, string | string[] | undefined>> = {};

  /** @param options - the instance's options; retries, redirects and HTTP errors are the caller's. */
  constructor(options: ExtendOptions) {
    this.#client = got.extend(options, { handlers: [reuseNativeRequestOptions] });
  }

  /** POSTs `body` with `headers` to `url`; got's stream of the answer, as `got.stream.post()` returns. */
  post(url: string, body: Buffer, headers: Readonly<Record<string, string>>): Request {
    if (url !== this.#url || this.#prepared === undefined) {
      this.#prepared = new Options(url, { method: 'POST', isStream: true }, this.#client.defaults.options);
      this.#url = url;
      this.#baseHeaders = { ...this.#prepared.headers };
    }
    const prepared = this.#prepared;
    // got copies the prepared options into the request's own at once: this request's body and headers go in
    // there, and the body is not kept past the call.
    prepared.body = body;
    prepared.headers = { ...this.#baseHeaders, ...headers };
    try {
      // `isStream: true` in the prepared options makes this got's stream (its types cannot tell).
      return this.#client(undefined, undefined, prepared) as Request;
    } finally {
      prepared.body = undefined;
    }
  }
}
