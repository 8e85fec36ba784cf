// A relying party built on openid-client, driven step by step by
// tests/functional/test_oidc_certified_client.py, which plays the browser in between.
//
//   node rp.mjs start  ISSUER CLIENT_ID SECRET REDIRECT_URI MAX_AGE
//     prints {url, verifier, state, nonce}: where to send the browser, and what to keep.
//   node rp.mjs finish ISSUER CLIENT_ID SECRET REDIRECT_URI MAX_AGE CALLBACK_URL VERIFIER STATE NONCE
//     takes the code from the callback, reads userinfo, refreshes, and prints what it got.
//
// Any answer openid-client refuses ends the script with exit code 1 and the error as
// JSON on stderr.

import * as client from 'openid-client'

const SCOPE = 'openid email profile offline_access'

async function configure(issuer, clientId, secret) {
  return client.discovery(new URL(issuer), clientId, secret, undefined, {
    execute: [client.allowInsecureRequests],
  })
}

async function start(config, redirectUri, maxAge) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    max_age: String(maxAge),
  })
  return { url: url.href, verifier, state, nonce }
}

function tokenSet(tokens) {
  return {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    expires_in: tokens.expires_in ?? null,
    refresh_token: tokens.refresh_token ?? null,
    id_token: tokens.id_token ?? null,
    scope: tokens.scope ?? null,
    claims: tokens.claims() ?? null,
  }
}

async function finish(config, maxAge, callbackUrl, verifier, state, nonce) {
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    maxAge,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  return {
    server_metadata: config.serverMetadata(),
    supports_pkce: config.serverMetadata().supportsPKCE(),
    tokens: tokenSet(tokens),
    userinfo,
    refreshed: tokenSet(refreshed),
  }
}

async function describe(error) {
  const seen = { name: error?.name, code: error?.code, message: error?.message }
  for (const key of ['error', 'error_description', 'status']) {
    if (error?.[key] !== undefined) seen[key] = error[key]
  }
  const cause = error?.cause
  if (cause instanceof Response) {
    seen.cause = {
      status: cause.status,
      url: cause.url,
      headers: Object.fromEntries(cause.headers),
      body: (await cause.text().catch(() => '')).slice(0, 2000),
    }
  } else if (cause instanceof Error) {
    seen.cause = await describe(cause)
  } else if (cause !== undefined) {
    seen.cause = cause
  }
  return seen
}

async function main(argv) {
  const [phase, issuer, clientId, secret, redirectUri, maxAgeText, ...rest] = argv
  const maxAge = Number(maxAgeText)
  const config = await configure(issuer, clientId, secret)
  if (phase === 'start') return start(config, redirectUri, maxAge)
  if (phase === 'finish') return finish(config, maxAge, ...rest)
  throw new Error(`unknown phase ${phase}; use start or finish`)
}

try {
  process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + '\n')
} catch (error) {
  process.stderr.write(JSON.stringify(await describe(error)) + '\n')
  process.exitCode = 1
}
