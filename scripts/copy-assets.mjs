// The web UI is plain browser JavaScript (no build step); the server serves it from next to
// its own compiled module, so the build copies it into dist/.
import { cpSync, existsSync } from 'node:fs';

if (existsSync('dashboard/ui')) cpSync('dashboard/ui', 'dist/dashboard/ui', { recursive: true });
