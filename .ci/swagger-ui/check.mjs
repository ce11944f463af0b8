// In Swagger UI, as a developer would: sign in with POST /auth/login, paste the access token
// into "Authorize", call GET /auth/me and see 200 with the signed-in user.
//   NEWSROOM_URL=http://127.0.0.1:18080 NEWSROOM_EMAIL=... NEWSROOM_PASSWORD=... node check.mjs
import { chromium } from 'playwright-core';

const base = process.env.NEWSROOM_URL;
const email = process.env.NEWSROOM_EMAIL;
const password = process.env.NEWSROOM_PASSWORD;
const screenshot = process.env.NEWSROOM_SCREENSHOT;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}/docs/`);
  await page.waitForSelector('.opblock');

  const login = page.locator('#operations-auth-login');
  await login.locator('.opblock-summary').click();
  await login.locator('button.try-out__btn').click();
  await login.locator('textarea.body-param__text').fill(JSON.stringify({ email, password }));
  await login.locator('button.execute').click();
  const loginBody = login.locator('.live-responses-table .response-col_description pre').first();
  await loginBody.waitFor();
  const token = JSON.parse(await loginBody.innerText()).access_token;
  if (!token) throw new Error('no access_token in the login response');

  await page.locator('.scheme-container button.authorize').click();
  await page.locator('.modal-ux input').first().fill(token);
  await page.locator('.modal-ux button.authorize').click();
  await page.locator('.modal-ux button.btn-done').click();

  const me = page.locator('#operations-auth-me');
  await me.locator('.opblock-summary').click();
  await me.locator('button.try-out__btn').click();
  await me.locator('button.execute').click();
  const status = me.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  const code = (await status.innerText()).trim();
  const body = await me.locator('.live-responses-table .response-col_description pre').first().innerText();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
  if (code !== '200' || !body.includes(email)) {
    throw new Error(`GET /auth/me answered ${code}: ${body.slice(0, 200)}`);
  }
  console.log(`Swagger UI: signed in, authorized, GET /api/v1/auth/me -> ${code} as ${email}`);
} catch (err) {
  console.error(`Swagger UI check failed: ${err.message}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
