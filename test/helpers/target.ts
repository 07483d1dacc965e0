import { targetParser } from '../../src/cinder/path.js';
import { DEFAULT_PROJECT_ID_PATTERN } from '../../src/config/schema.js';

/** The request-target parser with Cinder's default project_id_regex, as the proxy builds it from its config. */
export const parseTarget = targetParser(DEFAULT_PROJECT_ID_PATTERN);
