/**
 * Local fake HTTP servers (127.0.0.1, random ports) that answer like the real services the functional
 * check talks to. Status codes, bodies and auth behaviour are copied from the sources:
 * - n8n 2.36.9: /work/shared/reference/n8n-2.36.9-observed.md, plus n8n's auth.controller.ts (login
 *   errors, 5 logins per email per minute) and response-helper.ts (`{"data":...}` / `{"code","message"}`).
 * - Qdrant v1.19.0: docs/redoc/master/openapi.json and src/actix/auth.rs + src/common/auth/mod.rs
 *   (401 with a plain-text reason when the api-key is missing or wrong).
 * - Ollama v0.33: server/routes.go ListHandler and api/types.go ListResponse.
 * - Crawl4AI 0.9.x (develop after 0.9.2): deploy/docker/auth_gate.py (401 {"detail":"Authentication
 *   required"}), server.py /crawl (500 "Crawl request failed: ..." when every result failed),
 *   crawl4ai/async_configs.py (untrusted config gate) and async_crawler_strategy.py (a raw: page goes
 *   through the browser, running its scripts, only when e.g. wait_for is set).
 * Each fake records the requests it got; knobs switch it into one of the failure modes under test.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import * as vm from 'vm';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Handler = (req: RecordedRequest, res: http.ServerResponse) => void;

abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private server?: http.Server;

  protected abstract handle: Handler;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
        this.requests.push(recorded);
        try {
          this.handle(recorded, res);
        } catch (err) {
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`fake server error: ${String(err)}`);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function text(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function parseJson(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The credentials start.sh imports from docker/n8n/credentials.json, as GET /rest/credentials lists them. */
export interface N8nCredential {
  readonly id: string;
  readonly name: string;
  readonly type: string;
}

export class FakeN8n extends FakeServer {
  /** Logins accepted per email per minute (n8n's keyed rate limit on POST /rest/login). */
  static readonly LOGIN_LIMIT = 5;
  credentials: N8nCredential[];
  private readonly sessions = new Map<string, string | undefined>();
  private readonly loginsByEmail = new Map<string, number>();
  private sessionCounter = 0;

  constructor(
    readonly ownerEmail: string,
    public ownerPassword: string,
    credentials: N8nCredential[],
  ) {
    super();
    this.credentials = [...credentials];
  }

  get loginRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/rest/login');
  }

  /** Sessions issued and not logged out. */
  get openSessions(): number {
    return this.sessions.size;
  }

  protected handle: Handler = (req, res) => {
    const route = `${req.method} ${req.path.split('?')[0]}`;
    if (route === 'POST /rest/login') return this.login(req, res);
    if (route === 'GET /rest/settings') {
      return json(res, 200, { data: { settingsMode: 'public', userManagement: { showSetupOnFirstLoad: false }, authCookie: { secure: true } } });
    }
    const session = this.session(req);
    if (!session) return json(res, 401, { status: 'error', message: 'Unauthorized' });
    if (route === 'GET /rest/credentials') return this.listCredentials(res);
    if (route === 'POST /rest/logout') {
      this.sessions.delete(session);
      return json(res, 200, { data: { loggedOut: true } });
    }
    return json(res, 404, { code: 404, message: `Not Found` });
  };

  private login(req: RecordedRequest, res: http.ServerResponse): void {
    const body = parseJson(req.body);
    if (!body || typeof body.emailOrLdapLoginId !== 'string' || typeof body.password !== 'string') {
      return json(res, 400, { code: 400, message: 'emailOrLdapLoginId and password are required' });
    }
    const count = (this.loginsByEmail.get(body.emailOrLdapLoginId) ?? 0) + 1;
    this.loginsByEmail.set(body.emailOrLdapLoginId, count);
    const rateHeaders = { 'RateLimit-Limit': String(FakeN8n.LOGIN_LIMIT), 'RateLimit-Remaining': String(Math.max(0, FakeN8n.LOGIN_LIMIT - count)) };
    if (count > FakeN8n.LOGIN_LIMIT) return text(res, 429, 'Too many requests, please try again later.', rateHeaders);
    if (body.emailOrLdapLoginId !== this.ownerEmail || body.password !== this.ownerPassword) {
      return json(res, 401, { code: 401, message: 'Wrong username or password. Do you have caps lock on?' }, rateHeaders);
    }
    const token = `eyJhbGciOiJIUzI1NiJ9.eyJpZCI6Im93bmVyIn0.session${++this.sessionCounter}`;
    const browserId = req.headers['browser-id'];
    this.sessions.set(token, typeof browserId === 'string' ? browserId : undefined);
    json(
      res,
      200,
      { data: { id: 'a1b2c3', email: this.ownerEmail, firstName: 'GeuseMaker', lastName: 'Owner', role: 'global:owner', isPending: false, mfaEnabled: false } },
      { ...rateHeaders, 'Set-Cookie': `n8n-auth=${token}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax` },
    );
  }

  /** The n8n-auth cookie of a live session, sent with the browser-id it was issued for. */
  private session(req: RecordedRequest): string | undefined {
    const match = /(?:^|;\s*)n8n-auth=([^;]+)/.exec(req.headers.cookie ?? '');
    if (!match || !this.sessions.has(match[1])) return undefined;
    const browserId = this.sessions.get(match[1]);
    if (browserId !== undefined && req.headers['browser-id'] !== browserId) return undefined;
    return match[1];
  }

  private listCredentials(res: http.ServerResponse): void {
    const project = { id: 'prj1', type: 'personal', name: `GeuseMaker Owner <${this.ownerEmail}>`, icon: null };
    json(res, 200, {
      data: this.credentials.map((c) => ({
        createdAt: '2026-11-29T10:00:00.000Z',
        updatedAt: '2026-11-29T10:00:00.000Z',
        id: c.id,
        name: c.name,
        type: c.type,
        isManaged: false,
        isGlobal: false,
        homeProject: project,
        sharedWithProjects: [],
        scopes: ['credential:create', 'credential:delete', 'credential:list', 'credential:read', 'credential:share', 'credential:update'],
      })),
    });
  }
}

export class FakeQdrant extends FakeServer {
  /** Collections that exist now, with their points. */
  readonly collections = new Map<string, Map<number | string, number[]>>();
  /** Serve without an API key, as Qdrant does when QDRANT__SERVICE__API_KEY is unset. */
  authOff = false;
  /** The query finds nothing (an index that lost the point). */
  searchFindsNothing = false;
  /** Names of the collections ever created. */
  readonly created: string[] = [];

  constructor(public apiKey: string) {
    super();
  }

  protected handle: Handler = (req, res) => {
    const path = req.path.split('?')[0];
    const whitelisted = path === '/' || path === '/healthz' || path.startsWith('/readyz') || path.startsWith('/livez');
    if (!this.authOff && !whitelisted) {
      const auth = req.headers.authorization;
      const key = req.headers['api-key'] ?? (typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined);
      if (key === undefined) return text(res, 401, 'Must provide an API key or an Authorization bearer token');
      if (key !== this.apiKey) return text(res, 401, 'Invalid API key or JWT');
    }
    const ok = (result: unknown) => json(res, 200, { result, status: 'ok', time: 0.000123 });
    const error = (status: number, message: string) => json(res, status, { status: { error: message }, time: 0.000045 });
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/collections') {
      return ok({ collections: [...this.collections.keys()].map((name) => ({ name })) });
    }
    if ((m = /^\/collections\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      if (req.method === 'PUT') {
        const body = parseJson(req.body);
        if (!body?.vectors?.size || !body.vectors.distance) return error(400, 'Json deserialize error: missing field `vectors`');
        if (this.collections.has(name)) return error(409, `Wrong input: Collection \`${name}\` already exists!`);
        this.collections.set(name, new Map());
        this.created.push(name);
        return ok(true);
      }
      if (req.method === 'DELETE') return ok(this.collections.delete(name));
    }
    if ((m = /^\/collections\/([^/]+)\/points(\/query)?$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      const points = this.collections.get(name);
      if (!points) return error(404, `Not found: Collection \`${name}\` doesn't exist!`);
      const body = parseJson(req.body);
      if (req.method === 'PUT' && !m[2]) {
        if (!Array.isArray(body?.points)) return error(400, 'Json deserialize error: data did not match any variant of untagged enum PointInsertOperations');
        for (const p of body.points) points.set(p.id, p.vector);
        return ok({ operation_id: 0, status: req.path.includes('wait=true') ? 'completed' : 'acknowledged' });
      }
      if (req.method === 'POST' && m[2]) {
        if (!Array.isArray(body?.query)) return error(400, 'Json deserialize error: missing field `query`');
        const found = this.searchFindsNothing ? [] : [...points.keys()].slice(0, body.limit ?? 10).map((id) => ({ id, version: 0, score: 1.0 }));
        return ok({ points: found });
      }
    }
    return error(404, `Not found: ${req.method} ${path}`);
  };
}

export class FakeOllama extends FakeServer {
  /** Answer GET /api/tags with this HTTP error (and Ollama's {"error":...} body) instead of the list. */
  failWith?: { status: number; error: string };
  models = [
    {
      name: 'llama3.2:1b',
      model: 'llama3.2:1b',
      modified_at: '2026-11-29T10:00:00.000000000Z',
      size: 1321098329,
      digest: 'baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878',
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '1.2B', quantization_level: 'Q8_0' },
    },
  ];

  protected handle: Handler = (req, res) => {
    const path = req.path.split('?')[0];
    if (req.method === 'GET' && path === '/api/version') return json(res, 200, { version: '0.33.1' });
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/api/tags') {
      if (this.failWith) return json(res, this.failWith.status, { error: this.failWith.error });
      return json(res, 200, { models: this.models });
    }
    return text(res, 404, '404 page not found');
  };
}

/** The CrawlerRunConfig fields an untrusted request may not set (400 "Rejected config"). */
const CRAWL4AI_FORBIDDEN = ['js_code', 'js_code_before_wait', 'c4a_script', 'deep_crawl_strategy', 'proxy_config', 'base_url', 'simulate_user', 'override_navigator', 'magic', 'process_in_browser', 'shared_data', 'session_id'];
/** What forces a raw: page through the browser (the rest is a plain HTML pass-through). */
const CRAWL4AI_BROWSER_TRIGGERS = ['screenshot', 'pdf', 'capture_mhtml', 'wait_for', 'scan_full_page', 'remove_overlay_elements', 'remove_consent_popups', 'process_iframes'];

export class FakeCrawl4ai extends FakeServer {
  /** No CRAWL4AI_API_TOKEN: every endpoint open (what the 0.9.x gate would refuse to start with on 0.0.0.0). */
  authOff = false;
  /** Every crawl fails in the browser: the server answers 500 "Crawl request failed: ...". */
  crawlFails = false;
  /** A broken build answering 500 to every endpoint but /health (0.9.0, unclecode/crawl4ai#2025). */
  broken = false;
  /** A server that never runs the page's scripts (raw: pages not rendered by a browser). */
  noBrowser = false;

  constructor(readonly token: string) {
    super();
  }

  get crawlRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/crawl');
  }

  protected handle: Handler = (req, res) => {
    const path = req.path.split('?')[0];
    if (path === '/health') return json(res, 200, { status: 'ok', timestamp: 1764410000.0, version: '0.9.3' });
    if (!this.authOff) {
      const auth = req.headers.authorization ?? '';
      if (!auth.toLowerCase().startsWith('bearer ') || auth.slice(7).trim() !== this.token) {
        return json(res, 401, { detail: 'Authentication required' }, { 'WWW-Authenticate': 'Bearer' });
      }
    }
    if (this.broken) return text(res, 500, 'Internal Server Error');
    if (req.method === 'POST' && path === '/crawl') return this.crawl(req, res);
    return json(res, 404, { detail: 'Not Found' });
  };

  private crawl(req: RecordedRequest, res: http.ServerResponse): void {
    const body = parseJson(req.body);
    if (!body || !Array.isArray(body.urls) || body.urls.length === 0) {
      return json(res, 422, { detail: [{ type: 'missing', loc: ['body', 'urls'], msg: 'Field required', input: body ?? null }] });
    }
    const params = body.crawler_config?.params ?? body.crawler_config ?? {};
    const forbidden = Object.keys(params).find((k) => CRAWL4AI_FORBIDDEN.includes(k));
    if (forbidden) return json(res, 400, { detail: `Rejected config: field '${forbidden}' may not be set from an untrusted request` });
    const url: string = body.urls[0];
    if (!/^(https?:\/\/|raw:)/.test(url)) return json(res, 400, { detail: 'URL must start with http://, https://, raw:, raw://' });
    if (!url.startsWith('raw:')) return json(res, 400, { detail: 'URL blocked (SSRF protection): URL blocked' });
    if (this.crawlFails) {
      return json(res, 500, { detail: `Crawl request failed: Wait condition failed: Timeout after ${params.wait_for_timeout ?? 60000}ms waiting for selector '${String(params.wait_for ?? '').replace(/^css:/, '')}'` });
    }
    const html = url.startsWith('raw://') ? url.slice(6) : url.slice(4);
    const inBrowser = !this.noBrowser && CRAWL4AI_BROWSER_TRIGGERS.some((k) => Boolean(params[k]));
    const rendered = inBrowser ? renderInFakeBrowser(html) : html;
    const markdown = htmlToMarkdown(rendered);
    json(res, 200, {
      success: true,
      results: [
        {
          url,
          html: rendered,
          fit_html: null,
          success: true,
          cleaned_html: rendered.replace(/<script[\s\S]*?<\/script>/g, ''),
          media: { images: [], videos: [], audios: [] },
          links: { internal: [], external: [] },
          downloaded_files: null,
          js_execution_result: null,
          screenshot: null,
          pdf: null,
          mhtml: null,
          extracted_content: null,
          metadata: { title: /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? null },
          error_message: '',
          session_id: null,
          response_headers: {},
          status_code: 200,
          ssl_certificate: null,
          dispatch_result: null,
          redirected_url: null,
          network_requests: null,
          console_messages: null,
          tables: [],
          markdown: { raw_markdown: markdown, markdown_with_citations: markdown, references_markdown: '', fit_markdown: '', fit_html: '' },
        },
      ],
      server_processing_time_s: 1.84,
      server_memory_delta_mb: 3.2,
      server_peak_memory_mb: 412.5,
    });
  }
}

/**
 * Runs the inline scripts of a page against a minimal DOM (createElement, getElementById, appendChild,
 * textContent) and returns the page with what they appended: what a browser's set_content() would show.
 */
function renderInFakeBrowser(html: string): string {
  interface El { id: string; tag: string; textContent: string; children: El[]; appendChild(c: El): void }
  const make = (tag: string, id = ''): El => ({ id, tag, textContent: '', children: [], appendChild(c: El) { this.children.push(c); } });
  const byId = new Map<string, El>();
  for (const m of html.matchAll(/<(\w+)[^>]*\bid=['"]([^'"]+)['"][^>]*>/g)) byId.set(m[2], make(m[1], m[2]));
  const document = {
    createElement: (tag: string) => make(tag),
    getElementById: (id: string) => byId.get(id) ?? null,
  };
  for (const m of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) vm.runInNewContext(m[1], { document }, { timeout: 1000 });
  const render = (el: El): string => `<${el.tag}${el.id ? ` id="${el.id}"` : ''}>${el.textContent}${el.children.map(render).join('')}</${el.tag}>`;
  return html.replace(/<(\w+)([^>]*\bid=['"]([^'"]+)['"][^>]*)>(\s*)<\/\1>/g, (whole, tag, attrs, id) => {
    const el = byId.get(id);
    return el && el.children.length > 0 ? `<${tag}${attrs}>${el.children.map(render).join('')}</${tag}>` : whole;
  });
}

function htmlToMarkdown(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<head>[\s\S]*?<\/head>/g, '')
    .replace(/<h1[^>]*>([\s\S]*?)<\/h1>/g, '# $1\n\n')
    .replace(/<p[^>]*>([\s\S]*?)<\/p>/g, '$1\n\n')
    .replace(/<[^>]+>/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim() + '\n';
}

/** The four HTTP fakes of one test. */
export class FakeServices {
  readonly n8n: FakeN8n;
  readonly qdrant: FakeQdrant;
  readonly ollama: FakeOllama;
  readonly crawl4ai: FakeCrawl4ai;

  constructor(secrets: { ownerEmail: string; ownerPassword: string; qdrantApiKey: string; crawl4aiToken: string }, credentials: N8nCredential[]) {
    this.n8n = new FakeN8n(secrets.ownerEmail, secrets.ownerPassword, credentials);
    this.qdrant = new FakeQdrant(secrets.qdrantApiKey);
    this.ollama = new FakeOllama();
    this.crawl4ai = new FakeCrawl4ai(secrets.crawl4aiToken);
  }

  private get all(): FakeServer[] {
    return [this.n8n, this.qdrant, this.ollama, this.crawl4ai];
  }

  async start(): Promise<void> {
    await Promise.all(this.all.map((s) => s.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((s) => s.close()));
  }

  /** The settings pointing the check at these fakes. */
  settings(): Record<string, string> {
    return {
      GM_N8N_LOCAL_URL: this.n8n.url,
      GM_QDRANT_URL: this.qdrant.url,
      GM_OLLAMA_URL: this.ollama.url,
      GM_CRAWL4AI_URL: this.crawl4ai.url,
    };
  }
}
