// Two OpenID Connect providers for Liasse's tests, built on panva's oidc-provider (what
// FranceConnect's own core is built on):
//
//   - one like FranceConnect v2: issuer http://127.0.0.1:FC_PORT/api/v2, pairwise subjects,
//     ES256 ID token and userinfo JWT, acr eidas1..eidas3, end session, the pivot identity;
//   - one like ProConnect: issuer http://127.0.0.1:PC_PORT/api/v2, RS256, the agents' claims.
//
// Login and consent are small HTML forms (usable by a browser and by a scripted HTTP client):
// log in with one of the users below and the password "liasse-test".
//
// Misbehaviour on demand, per login, so that tests can run in parallel: log in as USER+MODE
// (for example "angela+wrong_iss") and the token endpoint's ID token for that login is altered:
//   wrong_iss, wrong_aud, expired, iat_future, bad_signature, unknown_kid, low_acr,
//   wrong_nonce, alg_none, alg_hs256.
//
// Usage: node server.mjs --fc-port N --pc-port M [--host 127.0.0.1]
// Clients come from the environment, registered on both providers:
//   OIDC_CLIENTS='[{"client_id":"...","client_secret":"...","redirect_uris":["http://127.0.0.1/cb"],
//                   "post_logout_redirect_uris":["http://127.0.0.1/"]}]'
// They are "native" clients: on loopback, the port of a redirect URI does not matter (RFC 8252),
// so tests may listen anywhere. When OIDC_CLIENTS is unset, one client liasse-test /
// liasse-test-secret with redirect http://127.0.0.1/oidc/callback is registered.
// It prints one line "ready fc=URL pc=URL" when both listen.

import { createHash, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const PASSWORD = 'liasse-test';
const MODES = new Set([
  'wrong_iss', 'wrong_aud', 'expired', 'iat_future', 'bad_signature', 'unknown_kid',
  'low_acr', 'wrong_nonce', 'alg_none', 'alg_hs256',
]);
const ACR_ORDER = ['eidas1', 'eidas2', 'eidas3'];

const FC_USERS = {
  angela: {
    given_name: 'Angela Claire Louise', family_name: 'DUBOIS', birthdate: '1962-08-24',
    gender: 'female', birthplace: '75107', birthcountry: '99100',
    email: 'wossewodda-3728@yopmail.com', preferred_username: '',
  },
  pierre: {
    given_name: 'Pierre', family_name: 'MERCIER', birthdate: '1990-04-01', gender: 'male',
    birthplace: '41018', birthcountry: '99100', email: 'pierre.mercier@example.org',
    preferred_username: 'DUBOIS',
  },
  lucie: {
    // Born abroad: no birthplace.
    given_name: 'Lucie', family_name: 'FERREIRA', birthdate: '1985-00-00', gender: 'female',
    birthplace: '', birthcountry: '99139', email: 'lucie.ferreira@example.org',
    preferred_username: '',
  },
};
const PC_USERS = {
  'agent@blois.fr': {
    given_name: 'Jean', usual_name: 'MARTIN', email: 'agent@blois.fr', uid: '4211',
    siret: '21410018600018', siren: '214100186', idp_id: 'fia1v2',
    organizational_unit: 'Etat civil', phone: '0254000000',
  },
  'admin@blois.fr': {
    given_name: 'Claire', usual_name: 'BERNARD', email: 'admin@blois.fr', uid: '4212',
    siret: '21410018600018', siren: '214100186', idp_id: 'fia1v2',
  },
  'inconnu@ailleurs.fr': {
    given_name: 'Paul', usual_name: 'DURAND', email: 'inconnu@ailleurs.fr', uid: '77',
    siret: '13002526500013', siren: '130025265', idp_id: 'fia1v2',
  },
};

const FC_CLAIMS = {
  openid: ['sub'],
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
  email: ['email'],
  preferred_username: ['preferred_username'],
  profile: ['given_name', 'family_name', 'birthdate', 'gender', 'preferred_username'],
  birth: ['birthplace', 'birthcountry'],
  identite_pivot: ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'],
};
const PC_CLAIMS = {
  openid: ['sub'],
  given_name: ['given_name'],
  usual_name: ['usual_name'],
  email: ['email'],
  uid: ['uid'],
  siret: ['siret'],
  siren: ['siren'],
  idp_id: ['idp_id'],
  organizational_unit: ['organizational_unit'],
  phone: ['phone'],
  belonging_population: ['belonging_population'],
};

function signingKey(kind) {
  const kid = `${kind}-${randomBytes(4).toString('hex')}`;
  if (kind === 'fc') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { kid, alg: 'ES256', privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' } };
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg: 'RS256', privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

const b64 = (data) => Buffer.from(data).toString('base64url');
const unb64 = (text) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));

function jwsSign(header, payload, key) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const options = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey;
  return `${input}.${b64(sign('sha256', Buffer.from(input), options))}`;
}

function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

/** The ID token of a misbehaving login, altered as MODE says. */
function misbehave(idToken, mode, ctx) {
  const [h, p, s] = idToken.split('.');
  const header = unb64(h);
  const payload = unb64(p);
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'wrong_iss': payload.iss = `${ctx.issuer}-evil`; break;
    case 'wrong_aud': payload.aud = 'someone-else'; break;
    case 'expired': payload.iat = now - 7200; payload.exp = now - 3600; break;
    case 'iat_future': payload.iat = now + 3600; payload.exp = now + 7200; break;
    case 'low_acr': payload.acr = 'eidas1'; break;
    case 'wrong_nonce': payload.nonce = randomBytes(32).toString('base64url'); break;
    case 'bad_signature': {
      const signature = Buffer.from(s, 'base64url');
      signature[0] ^= 0xff;
      return `${h}.${p}.${b64(signature)}`;
    }
    case 'unknown_kid': {
      const stranger = signingKey(ctx.kind);
      return jwsSign({ ...header, kid: stranger.kid }, payload, stranger);
    }
    case 'alg_none':
      return `${b64(JSON.stringify({ alg: 'none', kid: header.kid }))}.${p}.`;
    case 'alg_hs256': {
      // The classic confusion: HMAC keyed with the public key.
      const input = `${b64(JSON.stringify({ alg: 'HS256', kid: header.kid }))}.${p}`;
      const mac = createHmac('sha256', JSON.stringify(publicJwk(ctx.key.jwk))).update(input).digest();
      return `${input}.${b64(mac)}`;
    }
    default: return idToken;
  }
  return jwsSign(header, payload, ctx.key);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body) {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

function makeProvider({ kind, port, host, clients }) {
  const issuer = `http://${host}:${port}/api/v2`;
  const key = signingKey(kind);
  const users = kind === 'fc' ? FC_USERS : PC_USERS;
  const modeBySub = new Map();
  const label = kind === 'fc' ? 'FranceConnect (test)' : 'ProConnect (test)';

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      application_type: 'native',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...(kind === 'fc'
        ? { subject_type: 'pairwise', token_endpoint_auth_method: 'client_secret_post',
            id_token_signed_response_alg: 'ES256', userinfo_signed_response_alg: 'ES256' }
        : { subject_type: 'public', token_endpoint_auth_method: 'client_secret_basic',
            id_token_signed_response_alg: 'RS256', userinfo_signed_response_alg: 'RS256' }),
      ...c,
    })),
    jwks: { keys: [key.jwk] },
    claims: kind === 'fc' ? FC_CLAIMS : PC_CLAIMS,
    scopes: ['openid'],
    acrValues: kind === 'fc' ? ACR_ORDER : ['eidas1'],
    subjectTypes: kind === 'fc' ? ['pairwise'] : ['public'],
    async pairwiseIdentifier(ctx, accountId, client) {
      const sub = createHash('sha256').update(`${client.sectorIdentifier}:${accountId}:liasse-test-salt`).digest('hex') + 'v1';
      const mode = accountId.split('+')[1];
      if (mode) modeBySub.set(sub, mode);
      return sub;
    },
    clientAuthMethods: kind === 'fc'
      ? ['client_secret_post', 'private_key_jwt']
      : ['client_secret_basic', 'private_key_jwt'],
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      claimsParameter: { enabled: true },
    },
    routes: { authorization: '/authorize', userinfo: '/userinfo' },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // FranceConnect's lifetimes: access token 60 s, code 30 s, session 30 min.
    ttl: { AccessToken: 60, AuthorizationCode: 30, IdToken: 60, Session: 1800, Interaction: 600, Grant: 1800 },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const user = users[id.split('+')[0]];
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...user }) };
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><body><h1>Erreur</h1><pre>${escapeHtml(JSON.stringify(out))}</pre></body></html>`;
    },
  });
  provider.proxy = false;
  const keyContext = { issuer, kind, key };

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (req.method === 'GET' && prompt.name === 'login') {
      return page(res, `Connexion — ${label}`,
        `<form method="post" action="/interaction/${escapeHtml(uid)}/login">`
        + `<label>Identifiant <input name="login" autofocus></label>`
        + `<label>Mot de passe <input name="password" type="password"></label>`
        + `<button type="submit">Se connecter</button></form>`
        + `<p>Utilisateurs : ${Object.keys(users).map(escapeHtml).join(', ')} ; mot de passe ${PASSWORD}.</p>`);
    }
    if (req.method === 'GET' && prompt.name === 'consent') {
      return page(res, `Autorisation — ${label}`,
        `<p>${escapeHtml(params.client_id)} demande : ${escapeHtml(params.scope)}</p>`
        + `<form method="post" action="/interaction/${escapeHtml(uid)}/confirm">`
        + `<button type="submit">Continuer sur ${escapeHtml(params.client_id)}</button></form>`
        + `<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Annuler</button></form>`);
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readBody(req);
      const login = form.get('login') ?? '';
      const [base, mode] = login.split('+');
      if (!users[base] || form.get('password') !== PASSWORD || (mode && !MODES.has(mode))) {
        return page(res, `Connexion — ${label}`, '<p role="alert">Identifiant ou mot de passe incorrect.</p>'
          + `<p><a href="/interaction/${escapeHtml(uid)}">Recommencer</a></p>`);
      }
      // The strongest level asked that we offer, as FranceConnect+ answers.
      const asked = String(params.acr_values ?? 'eidas1').split(' ').filter((a) => ACR_ORDER.includes(a));
      const acr = asked.sort((a, b) => ACR_ORDER.indexOf(b) - ACR_ORDER.indexOf(a))[0] ?? 'eidas1';
      return provider.interactionFinished(req, res, { login: { accountId: login, acr, amr: ['pwd'] } },
        { mergeWithLastSubmission: false });
    }
    if (req.method === 'POST' && action === 'confirm') {
      const { details: missing } = prompt;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (req.method === 'POST' && action === 'abort') {
      return provider.interactionFinished(req, res,
        { error: 'access_denied', error_description: "L'usager a annulé" }, { mergeWithLastSubmission: false });
    }
    res.statusCode = 404;
    return res.end();
  }

  /** Lets the token endpoint's answer through misbehave() for the logins that asked for it. */
  function alterTokenResponse(res) {
    const chunks = [];
    const end = res.end.bind(res);
    res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
    res.end = (chunk, ...rest) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
      let body = Buffer.concat(chunks);
      try {
        const json = JSON.parse(body.toString('utf8'));
        if (json.id_token) {
          const { sub } = unb64(json.id_token.split('.')[1]);
          const mode = modeBySub.get(sub) ?? sub.split('+')[1];
          if (mode) {
            json.id_token = misbehave(json.id_token, mode, keyContext);
            body = Buffer.from(JSON.stringify(json));
          }
        }
      } catch { /* not JSON: an error page, passed as is */ }
      if (!res.headersSent) res.setHeader('content-length', body.length);
      return end(body, ...rest.filter((r) => typeof r === 'function'));
    };
  }

  const callback = provider.callback();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      const match = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
      if (match) return await interaction(req, res, match[1], match[2]);
      if (url.pathname === '/api/v2' || url.pathname.startsWith('/api/v2/')) {
        if (req.method === 'POST' && url.pathname === '/api/v2/token') alterTokenResponse(res);
        req.originalUrl = req.url;
        req.url = req.url.slice('/api/v2'.length) || '/';
        return callback(req, res);
      }
      res.statusCode = 404;
      return res.end('not found');
    } catch (error) {
      console.error(`${kind}: ${error.stack ?? error}`);
      if (!res.headersSent) res.statusCode = 500;
      return res.end(String(error.message ?? error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ issuer, server }));
  });
}

const { values } = parseArgs({
  options: {
    'fc-port': { type: 'string' },
    'pc-port': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const clients = process.env.OIDC_CLIENTS
  ? JSON.parse(process.env.OIDC_CLIENTS)
  : [{
    client_id: 'liasse-test',
    client_secret: 'liasse-test-secret',
    redirect_uris: ['http://127.0.0.1/oidc/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/'],
  }];
const fc = await makeProvider({ kind: 'fc', port: Number(values['fc-port'] ?? 0), host: values.host, clients });
const pc = await makeProvider({ kind: 'pc', port: Number(values['pc-port'] ?? 0), host: values.host, clients });
console.log(`ready fc=${fc.issuer} pc=${pc.issuer}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => { fc.server.close(); pc.server.close(); process.exit(0); });
}
