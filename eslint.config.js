import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.ventas/', 'logs/', 'bench/results.json', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'zod', message: "Use `z` from src/shared/zod.ts: it sets zod's Spanish messages." }] },
      ],
    },
  },
  { files: ['src/shared/zod.ts'], rules: { 'no-restricted-imports': 'off' } },
);
