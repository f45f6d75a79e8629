# The operator image: worker and watcher are the same image with different
# commands. Not built in this repository's CI (its machines have no Docker
# engine); `npm run build` is what it runs and is checked by `npm test`'s typecheck.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json
# The workflow code bundled once here, not by webpack in every worker at start.
RUN node dist/worker/workflow-bundle.js /app/dist/workflows/index.js /app/dist/workflow-bundle.js

FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Two malloc arenas, not eight per core: the Temporal core's and libuv's
# threads otherwise each grow one (about 30 MiB less RSS in the worker).
# Both Deployments (chart and deploy/operator.yaml) inherit it from here.
ENV MALLOC_ARENA_MAX=2
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER 65532:65532
# Both processes run with a small young generation and a conservatively
# grown heap (--max-semi-space-size=2 --optimize-for-size): the watcher's
# RSS at 10,000 objects stays under 150 MiB, the worker's is about a third
# lower for about 8% more CPU. The watcher's Deployment runs
# `node --max-semi-space-size=2 --optimize-for-size dist/watcher/main.js`;
# the chart's singleProcess, `dist/operator/main.js` (both parts in one).
CMD ["node", "--max-semi-space-size=2", "--optimize-for-size", "dist/worker/main.js"]
