// Browser check of the exercise illustrations: headless Chromium (Debian's package) driven by
// playwright-core opens every exercise's start and end drawing from the running server and checks
// what the browser drew:
// - the drawing is not empty and lies inside its viewBox;
// - it has a <title> and a <desc>, and the desc is the alt text the exercise's `media` lists;
// - the working leg's hip, knee and ankle points lie on the drawn leg (isPointInStroke), and the
//   knee angle they make equals the pose's in src/domain/catalogue/poses.json (within 1.5°);
// - the animated drawing animates (unless the exercise is a hold: start and end are the same).
// Then it lays every start and end frame out on one contact sheet and screenshots it.
// Needs: BASE, POSES (poses.json), OUT (the contact sheet's PNG path).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const { BASE, POSES, OUT } = process.env;
const poses = JSON.parse(readFileSync(POSES, 'utf8'));

function fail(message) {
  console.error(`illustration browser check: ${message}`);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
const exercises = (await (await fetch(`${BASE}/v1/exercises?limit=100`)).json()).items;
if (exercises.length < 30) fail(`only ${exercises.length} exercises`);

const sheet = [];
for (const exercise of exercises) {
  const pose = poses[exercise.id];
  if (!pose) fail(`${exercise.id}: no pose`);
  const alt = exercise.media.find((m) => m.frame === 'start')?.alt;
  if (!alt) fail(`${exercise.id}: no alt text in media`);
  for (const frame of ['start', 'end']) {
    const url = `${BASE}/v1/exercises/${exercise.id}/illustration.svg?frame=${frame}`;
    const res = await page.goto(url);
    if (res.status() !== 200 || !res.headers()['content-type'].startsWith('image/svg+xml')) {
      fail(`${url}: ${res.status()} ${res.headers()['content-type']}`);
    }
    const drawn = await page.evaluate(() => {
      const svg = document.documentElement;
      const [x, y, w, h] = svg.getAttribute('viewBox').split(/\s+/).map(Number);
      const box = svg.getBBox();
      const leg = svg.querySelector('g.leg.near');
      const point = (name) => leg?.getAttribute(`data-${name}`)?.split(',').map(Number);
      const onLeg = (p) => [...leg.querySelectorAll('path, line, polyline')].some((el) =>
        el.isPointInStroke(new DOMPoint(p[0], p[1])) || (el.isPointInFill && el.isPointInFill(new DOMPoint(p[0], p[1]))));
      const [hip, knee, ankle] = ['hip', 'knee', 'ankle'].map(point);
      return {
        viewBox: { x, y, w, h },
        box: { x: box.x, y: box.y, w: box.width, h: box.height },
        title: svg.querySelector('title')?.textContent,
        desc: svg.querySelector('desc')?.textContent,
        hip, knee, ankle,
        onLeg: hip && knee && ankle ? [hip, knee, ankle].map(onLeg) : [],
      };
    });
    const { viewBox: v, box: b } = drawn;
    if (b.w < 20 || b.h < 20) fail(`${exercise.id} ${frame}: the drawing is empty (${b.w}×${b.h})`);
    if (b.x < v.x - 0.5 || b.y < v.y - 0.5 || b.x + b.w > v.x + v.w + 0.5 || b.y + b.h > v.y + v.h + 0.5) {
      fail(`${exercise.id} ${frame}: the drawing ${JSON.stringify(b)} leaves the viewBox ${JSON.stringify(v)}`);
    }
    if (drawn.title !== exercise.name) fail(`${exercise.id} ${frame}: title ${drawn.title}`);
    if (drawn.desc !== alt) fail(`${exercise.id} ${frame}: desc is not the media's alt text`);
    if (drawn.onLeg.length !== 3 || drawn.onLeg.includes(false)) {
      fail(`${exercise.id} ${frame}: hip, knee and ankle are not all on the drawn leg (${drawn.onLeg})`);
    }
    const a = [drawn.knee[0] - drawn.hip[0], drawn.knee[1] - drawn.hip[1]];
    const c = [drawn.ankle[0] - drawn.knee[0], drawn.ankle[1] - drawn.knee[1]];
    const cos = (a[0] * c[0] + a[1] * c[1]) / (Math.hypot(...a) * Math.hypot(...c));
    const measured = (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
    const wanted = pose.pose[frame].knee;
    if (Math.abs(measured - wanted) > 1.5) {
      fail(`${exercise.id} ${frame}: the drawn knee is ${measured.toFixed(1)}°, the pose's ${wanted}°`);
    }
    sheet.push({ id: exercise.id, name: exercise.name, frame, svg: await (await fetch(url)).text() });
  }
  const animated = await (await fetch(`${BASE}/v1/exercises/${exercise.id}/illustration.svg?frame=animated`)).text();
  const p = pose.pose;
  const still = JSON.stringify(p.start) === JSON.stringify(p.end) && !p.hop && !p.end_base
    && (!p.other_leg || JSON.stringify(p.other_leg.start) === JSON.stringify(p.other_leg.end));
  if (!still && !/<animate|@keyframes/.test(animated)) fail(`${exercise.id}: the animated drawing does not animate`);
}

// The contact sheet: three exercises (start and end) per row, the name under each pair.
const cells = [];
for (let i = 0; i < sheet.length; i += 2) {
  const [start, end] = [sheet[i], sheet[i + 1]];
  const img = (x) => `<img alt="" src="data:image/svg+xml;base64,${Buffer.from(x.svg).toString('base64')}">`;
  cells.push(`<figure><div class="pair">${img(start)}${img(end)}</div><figcaption>${start.name}<small>${start.id}</small></figcaption></figure>`);
}
await page.goto('about:blank');
await page.setViewportSize({ width: 1800, height: 1000 });
await page.setContent(`<!doctype html><html><head><style>
  body { margin: 16px; font: 14px system-ui, sans-serif; color: #2b3a55; background: #fff; }
  main { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px 20px; }
  figure { margin: 0; } .pair { display: flex; gap: 4px; }
  .pair img { width: 50%; height: auto; border: 1px solid #e3e7ec; }
  figcaption { margin-top: 4px; } small { color: #8c99ae; margin-left: 6px; }
  h1 { font-size: 18px; }
</style></head><body><h1>soleus-api exercise illustrations: start and end positions (${cells.length} exercises)</h1>
<main>${cells.join('')}</main></body></html>`);
await page.screenshot({ path: OUT, fullPage: true });
await browser.close();
console.log(`illustration browser check: ${exercises.length} exercises, start and end frames: inside their viewBox, knee angles as posed, alt text set; contact sheet ${OUT}`);
