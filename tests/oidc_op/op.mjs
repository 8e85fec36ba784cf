// oidc-provider (panva's OpenID Certified provider) as an outside upstream for the
// tests: one confidential client, the app under test, called back at CALLBACK; any
// login name signs in on its development pages, and is the account's address, verified
// unless the name starts with "unverified".
import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, CALLBACK } = process.env;
const issuer = `http://127.0.0.1:${PORT}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [CALLBACK],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !id.startsWith('unverified') };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  cookies: { keys: ['a key for the tests only, never a secret'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
