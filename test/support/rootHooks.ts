// Loaded by mocha before every test file (.mocharc.json `require`).
import { forgetCheckedSessions } from "../../providers/sessionDocumentProvider";

export const mochaHooks = {
    // The document provider checks a session once per process (providers/sessionDocumentProvider.ts),
    // as the engine runs it for one operation; tests run many in one process, and moto, reset or
    // started anew between them, forgets the credentials it issued.
    beforeEach(): void {
        forgetCheckedSessions();
    },
};
