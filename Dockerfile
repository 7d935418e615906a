# One image for the three jobline services; the command picks the service (see docker-compose.yml):
#   node producer/dist/main.js | node consumer/dist/main.js | node runner/dist/main.js
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/package.json libs/
COPY producer/package.json producer/
COPY consumer/package.json consumer/
COPY runner/package.json runner/
COPY dashboard/package.json dashboard/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY producer producer
COPY consumer consumer
COPY runner runner
COPY dashboard dashboard
COPY scripts/build-dashboard.mjs scripts/
COPY docs/openapi.json docs/
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/libs/package.json libs/
COPY --from=build --chown=node:node /app/libs/dist libs/dist
COPY --from=build --chown=node:node /app/producer/package.json producer/
COPY --from=build --chown=node:node /app/producer/dist producer/dist
COPY --from=build --chown=node:node /app/consumer/package.json consumer/
COPY --from=build --chown=node:node /app/consumer/dist consumer/dist
COPY --from=build --chown=node:node /app/runner/package.json runner/
COPY --from=build --chown=node:node /app/runner/dist runner/dist
COPY --from=build --chown=node:node /app/dashboard/package.json dashboard/
COPY --from=build --chown=node:node /app/dashboard/dist dashboard/dist
USER node
EXPOSE 3000
CMD ["node", "producer/dist/main.js"]
