// One linter: typescript-eslint with type information, plus the import boundaries of the layout
// (ARCHITECTURE.md): core/ imports nothing outside it; store/ never imports server/ or agent/;
// the agent talks to the server only through contracts/.
import tseslint from "typescript-eslint";

const outside = (...folders) => folders.map((f) => ({ group: [`**/${f}/**`, `../${f}/*`, `../../${f}/*`], message: `not across this layer boundary (${f}/)` }));

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "web/dist/", ".slipway/"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] }] }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/only-throw-error": "error",
      // Fastify handlers and hooks are async by convention, awaiting or not.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests read JSON responses loosely; the assertions are the type checks there.
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    files: ["src/core/**/*.ts"],
    ignores: ["src/core/**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [...outside("store", "server", "agent", "cli", "controller", "artifacts", "git", "contracts"), { group: ["node:*", "fs", "child_process", "pg", "kysely"], message: "core/ is pure: no I/O" }] }] },
  },
  {
    files: ["src/store/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: outside("server", "agent", "cli") }] },
  },
  {
    files: ["src/agent/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: outside("server", "store", "controller") }] },
  },
  {
    files: ["src/contracts/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: outside("store", "server", "agent", "cli", "controller") }] },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
