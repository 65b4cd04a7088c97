#!/usr/bin/env node
// Runs TIS in a box's CLI directly (no build step): tsx registers the loader.
import { register } from 'tsx/esm/api';
register();
await import('../box/cli.ts');
