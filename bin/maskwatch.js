#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx maskwatch …` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
