// The OpenID Connect provider the test suite signs in against: panva's certified `oidc-provider`, as
// deployed by real identity providers, with a login page of its own and the test users in users.json.
//
//   node provider.mjs <port>    (prints "listening <issuer>" once it answers)
//
// Besides the provider's own endpoints (discovery, JWKS, authorize, token, userinfo, end session), a
// few control routes under /__test/ let a test act out what happens to real providers:
//   POST /__test/configure  {"redirect_uris": [...], "post_logout_redirect_uris": [...]}  the client
//   POST /__test/rotate     a new signing key signs from now on (the old one stays published)
//   POST /__test/logout-token {claims}: a back-channel logout token signed by the current key
//   GET  /__test/stats      how many requests each path has had
//   POST /__test/misbehave  {"mode": "expired" | "wrong-audience" | "wrong-issuer" | "wrong-nonce" |
//                           "tampered" | "many-groups" | null}: the next ID tokens from the token
//                           endpoint are signed by the provider's own current key but expired / for
//                           another client / from another issuer / with another nonce / carry 200
//                           group ids (as Entra ID's do), or have their signature altered
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const users = JSON.parse(readFileSync(new URL('./users.json', import.meta.url), 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
const cookieKeys = [randomUUID(), randomUUID()];

const client = {
  client_id: 'supportdesk',
  client_secret: 'supportdesk-test-secret',
  client_name: 'SupportDesk',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: ['http://127.0.0.1:5000/login/oidc/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1:5000/login'],
};

let signingKeys = [];
let misbehaviour = null;
// Requests per path, for tests that count (the JWKS is fetched once per key rotation, not per sign-in).
const requestCounts = {};
let provider;
let handler;

async function newSigningKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 24rem; margin: 2rem auto; padding: 0 1rem">
<h1>Example IdP</h1>${body}</body></html>`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function build() {
  const instance = new Provider(issuer, {
    clients: [client],
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    // The desk under test listens on loopback, which the provider's outgoing-request (SSRF) guard
    // refuses by design; back-channel logout calls go to it all the same.
    fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out', `${form}<p>Sign out of Example IdP?</p>
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out of Example IdP.</p>');
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => {
      const user = users[sub];
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...user.claims }) };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
    },
    ttl: { Session: 3600, Grant: 3600, Interaction: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  });
  for (const outcome of ['backchannel.success', 'backchannel.error']) {
    instance.on(outcome, (ctx, ...details) => {
      const [errorOrClient] = details;
      process.stdout.write(`${outcome} ${errorOrClient?.message ?? errorOrClient?.clientId ?? ''}\n`);
    });
  }
  instance.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && misbehaviour && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await misbehave(ctx.body.id_token, misbehaviour) };
    }
  });
  return instance;
}

async function misbehave(idToken, mode) {
  if (mode === 'tampered') {
    // A claim changed after signing (the subject of someone else): the signature no longer matches.
    const [header, payload, signature] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    claims.sub = 'alice';
    return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  }
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'expired') Object.assign(claims, { iat: now - 3600, exp: now - 1800 });
  // For another client, though naming us as the authorized party: only an audience check catches it.
  if (mode === 'wrong-audience') Object.assign(claims, { aud: 'another-app', azp: client.client_id });
  if (mode === 'wrong-issuer') claims.iss = 'http://127.0.0.1:1/another-issuer';
  if (mode === 'wrong-nonce') claims.nonce = 'a-nonce-from-another-sign-in';
  // As Entra ID does for a member of many groups: up to 200 group object ids in the ID token itself.
  if (mode === 'many-groups') claims.groups = Array.from({ length: 200 }, () => randomUUID());
  const key = signingKeys[0];
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(await jose.importJWK(key, 'RS256'));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

function loginPage(uid, clientName, error = '') {
  return page('Sign in to Example IdP', `<p>Sign in to continue to ${escapeHtml(clientName)}.</p>
${error ? `<p role="alert" style="color: #b00">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<p><label>Username<br><input name="username" required autofocus></label></p>
<p><label>Password<br><input name="password" type="password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>`);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>Unknown interaction.</p>'));
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (action !== 'login') return send(res, 200, loginPage(uid, client.client_name));
    const form = await readForm(req);
    const user = users[form.username];
    if (!user || user.password !== form.password) {
      return send(res, 200, loginPage(uid, client.client_name, 'Wrong username or password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: form.username } }, {
      mergeWithLastSubmission: false,
    });
  }
  // Consent: SupportDesk is the company's own application, so the grant is given without a question.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function control(req, res, path) {
  const body = await readJson(req);
  if (path === '/__test/configure') {
    client.redirect_uris = body.redirect_uris ?? client.redirect_uris;
    client.post_logout_redirect_uris = body.post_logout_redirect_uris ?? client.post_logout_redirect_uris;
    if (body.backchannel_logout_uri) client.backchannel_logout_uri = body.backchannel_logout_uri;
    else delete client.backchannel_logout_uri;
  } else if (path === '/__test/rotate') {
    signingKeys = [await newSigningKey(), ...signingKeys];
  } else if (path === '/__test/logout-token') {
    // A logout token as the provider signs them, with the test's changes (null removes a claim).
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer, aud: client.client_id, iat: now, exp: now + 120, jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...body,
    };
    for (const [name, value] of Object.entries(claims)) if (value === null) delete claims[name];
    const key = signingKeys[0];
    const token = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'logout+jwt' })
      .sign(await jose.importJWK(key, 'RS256'));
    return send(res, 200, JSON.stringify({ token }), 'application/json');
  } else if (path === '/__test/misbehave') {
    misbehaviour = body.mode ?? null;
  } else {
    return send(res, 404, '{}', 'application/json');
  }
  provider = build();
  handler = provider.callback();
  const kids = signingKeys.map((key) => key.kid);
  return send(res, 200, JSON.stringify({ kids, misbehaviour }), 'application/json');
}

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  requestCounts[url.pathname] = (requestCounts[url.pathname] ?? 0) + 1;
  if (url.pathname === '/__test/stats') return send(res, 200, JSON.stringify(requestCounts), 'application/json');
  const match = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
  try {
    if (url.pathname.startsWith('/__test/') && req.method === 'POST') return await control(req, res, url.pathname);
    if (match) return await interaction(req, res, match[1], req.method === 'POST' ? match[2] : undefined);
  } catch (error) {
    return send(res, 400, page('Error', `<pre>${escapeHtml(error.message)}</pre>`));
  }
  return handler(req, res);
}

signingKeys = [await newSigningKey()];
provider = build();
handler = provider.callback();
const server = http.createServer(handle);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
