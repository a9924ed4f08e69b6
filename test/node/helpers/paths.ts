import { fileURLToPath } from 'node:url'

/** dist/test/node/helpers -> repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
/** The compiled CLI every test drives, exactly as a user would. */
export const CLI_PATH = fileURLToPath(new URL('../../../node/cli/main.js', import.meta.url))
/** A real daemon whose content store deliberately corrupts what it serves. */
export const CORRUPTING_SEEDER_PATH = fileURLToPath(new URL('../fixtures/corrupting-seeder.js', import.meta.url))

export const MiB = 1024 * 1024
/** A real daemon whose leecher side never signs receipts. */
export const NON_PAYING_LEECHER_PATH = fileURLToPath(new URL('../fixtures/non-paying-leecher.js', import.meta.url))
/** A real daemon (test double) that signs false manifests or advertises hostile names, as `<home>/test-double.json` says. */
export const LYING_SEEDER_PATH = fileURLToPath(new URL('../fixtures/lying-seeder.js', import.meta.url))
