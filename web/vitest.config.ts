import { defineConfig, mergeConfig } from 'vitest/config'
import viteConfig from './vite.config'

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      environment: 'happy-dom',
      include: ['tests/**/*.spec.ts'],
      setupFiles: ['tests/setup.ts'],
      reporters: ['default', './tests/summary-reporter.ts'],
      css: false,
      server: { deps: { inline: ['element-plus'] } },
    },
  }),
)
