// Browser test of the OAuth consent page: headless Chromium (Debian's package) driven by
// playwright-core. A user signs in and approves, lands on the partner's redirect URI with a code
// and the state, and the code is exchanged with the PKCE verifier; a second run denies and lands
// with error=access_denied. Needs: BASE (the server), CLIENT_ID, CLIENT_SECRET, EMAIL, PASSWORD,
// CALLBACK_PORT (the registered redirect URI is http://127.0.0.1:CALLBACK_PORT/cb).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { chromium } from 'playwright-core';

const { BASE, CLIENT_ID, CLIENT_SECRET, EMAIL, PASSWORD, CALLBACK_PORT } = process.env;
const redirectUri = `http://127.0.0.1:${CALLBACK_PORT}/cb`;

function fail(message) {
  console.error(`consent browser test: ${message}`);
  process.exit(1);
}

// The partner's side: a page that shows what it received.
const landed = [];
const partner = http.createServer((req, res) => {
  landed.push(new URL(req.url, redirectUri));
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>Partner</title><h1>Back at the partner</h1>');
});
await new Promise((resolve) => partner.listen(Number(CALLBACK_PORT), '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

async function consent(decision) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL('/v1/oauth/authorize', BASE);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri,
    scope: 'sessions:read', state, code_challenge: challenge, code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto(url.toString());
  if (response.status() !== 200) fail(`the consent page answered ${response.status()}`);
  // Accessible without JavaScript: a main landmark, a heading naming the partner, labelled fields.
  if ((await page.locator('main').count()) !== 1) fail('no <main> landmark');
  const heading = await page.locator('h1').innerText();
  if (!heading.includes('Browser Partner')) fail(`the heading does not name the partner: ${heading}`);
  if (!(await page.getByText('see your workout sessions').isVisible())) fail('the scope is not explained');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.screenshot({ path: `target/consent-${decision}.png` });
  await Promise.all([
    page.waitForURL((u) => u.toString().startsWith(redirectUri), { timeout: 15000 }),
    page.getByRole('button', { name: decision === 'approve' ? 'Allow' : 'Deny' }).click(),
  ]);
  const at = new URL(page.url());
  await context.close();
  if (at.searchParams.get('state') !== state) fail(`state not echoed: ${at}`);
  return { at, verifier };
}

const approved = await consent('approve');
const code = approved.at.searchParams.get('code');
if (!code) fail(`no code on the redirect: ${approved.at}`);
const exchange = await fetch(new URL('/v1/oauth/token', BASE), {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
  },
  body: new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: approved.verifier,
  }),
});
const tokens = await exchange.json();
if (exchange.status !== 200 || !tokens.access_token || !tokens.refresh_token || !tokens.user_id) {
  fail(`the exchange answered ${exchange.status}: ${JSON.stringify(tokens)}`);
}
const sessions = await fetch(new URL(`/v1/users/${tokens.user_id}/sessions`, BASE), {
  headers: { authorization: `Bearer ${tokens.access_token}` },
});
if (sessions.status !== 200) fail(`the partner token could not read the user's sessions: ${sessions.status}`);

const denied = await consent('deny');
if (denied.at.searchParams.get('error') !== 'access_denied') fail(`deny did not redirect with access_denied: ${denied.at}`);

await browser.close();
partner.close();
console.log(`consent browser test: approved (code exchanged, user ${tokens.user_id}), denied (access_denied); ${landed.length} redirects landed`);
