#!/usr/bin/env node
// Committed launcher so npm can link the command before the TypeScript build exists.
import '../dist/src/bin/ballast.js';
