// Test-only OpenID Connect provider for the SSO end-to-end tests: in-memory store, development keys,
// the library's development login form (any login, any password) and consent implied.
// Env: IDP_PORT, IDP_REDIRECTS (comma list of callback URLs), IDP_USERS (JSON sub -> claims).
// PUT /test-users/<sub> with a JSON claims object changes a person between logins (204).
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT ?? 9400);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.IDP_REDIRECTS ?? '').split(',').filter(Boolean);
const people = JSON.parse(process.env.IDP_USERS ?? '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'governor-test',
    client_secret: 'governor-test-secret',
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  // As in Authentik, `groups` comes with the profile scope.
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const person = people[sub] ?? { name: sub, email: `${sub}@example.test`, groups: [] };
    return {
      accountId: sub,
      async claims() {
        return {
          sub, name: person.name, preferred_username: sub, email: person.email,
          email_verified: false, groups: person.groups,
        };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const clientId = ctx.oidc.client.clientId;
    const existing = ctx.oidc.session.grantIdFor(clientId);
    if (existing) return Grant.find(existing);
    const grant = new Grant({ clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email offline_access');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/test-users\/([^/]+)$/);
  if (ctx.method !== 'PUT' || !match) return next();
  let body = '';
  for await (const chunk of ctx.req) body += chunk;
  people[decodeURIComponent(match[1])] = JSON.parse(body || '{}');
  ctx.status = 204;
});

provider.listen(port, '127.0.0.1', () => console.log(`idp ready ${issuer}`));
