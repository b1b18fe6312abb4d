// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, and a few
// more that catch real mistakes. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
    { ignores: ["dist/", "lib/", "node_modules/", "test/fixtures/", "examples/*/node_modules/"] },
    js.configs.recommended,
    tseslint.configs.recommended,
    {
        languageOptions: { globals: { ...globals.node, ...globals.mocha } },
        rules: {
            eqeqeq: ["error", "always"],
            "no-unused-expressions": "off",
            "@typescript-eslint/no-unused-expressions": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            // require() is deliberate here: the dynamic provider loads packages at run time
            // (providers/packageRequire.ts), and the program loads the StackSet code only when used.
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    {
        // chai's property assertions (`.to.be.empty`) are expressions by design.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-unused-expressions": "off" },
    },
);
