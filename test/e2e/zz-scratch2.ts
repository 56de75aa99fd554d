import { startTestApp } from '../helpers/app.js';
const app = await startTestApp({ env: { LOG_LEVEL: 'error' } });
const r = await fetch(app.url + '/snippet.js');
console.log(r.status);
await app.close();
