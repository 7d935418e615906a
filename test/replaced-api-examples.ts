/**
 * Requests as the documentation of the services jobline takes over writes them, copied as they are: their clients'
 * code sends these, so jobline must answer them. `replaced-apis.e2e.test.ts` sends them, adapting only where the API
 * answers and its token (see there).
 */

/** The Bulk Data Import/Export API's usage examples: importing users, exporting articles, the import order. */
export const BULK_DATA_IMPORT_USERS = String.raw`
# Using file upload
curl -X POST http://localhost:3000/v1/imports?resource=users \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: unique-123" \
  -F "file=@users.ndjson"

# Using URL
curl -X POST http://localhost:3000/v1/imports?resource=users \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: unique-456" \
  -H "Content-Type: application/json" \
  -d '{"url": "https://example.com/users.ndjson"}'

# Check status
curl http://localhost:3000/v1/imports/123 \
  -H "Authorization: Token <token>"
`;

export const BULK_DATA_EXPORT_ARTICLES = String.raw`
# Stream export (immediate download)
curl http://localhost:3000/v1/exports?resource=articles&format=ndjson \
  -H "Authorization: Token <token>" \
  --output articles.ndjson

# Async export with filters
curl -X POST http://localhost:3000/v1/exports \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: export-789" \
  -H "Content-Type: application/json" \
  -d '{
    "resource": "articles",
    "format": "json",
    "filters": {"status": "published"},
    "fields": ["id", "title", "slug"]
  }'

# Download exported file
curl http://localhost:3000/v1/exports/456/download \
  -H "Authorization: Token <token>" \
  --output export.json
`;

export const BULK_DATA_IMPORT_ORDER = String.raw`
# 1. Import users first (no dependencies)
curl -X POST http://localhost:3000/v1/imports?resource=users \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: import-users-1" \
  -F "file=@users.ndjson"

# 2. Import articles (requires users to exist)
curl -X POST http://localhost:3000/v1/imports?resource=articles \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: import-articles-1" \
  -F "file=@articles.ndjson"

# 3. Import comments (requires users and articles)
curl -X POST http://localhost:3000/v1/imports?resource=comments \
  -H "Authorization: Token <token>" \
  -H "Idempotency-Key: import-comments-1" \
  -F "file=@comments.ndjson"
`;

/** The book import/export service's manual test: an EPUB export of a book. */
export const BOOK_EXPORT = String.raw`
curl -X 'POST' 'http://localhost:3001/api/receptionist/exports' \
  -H 'accept: */*' \
  -H 'Content-Type: application/json' \
  -d '{"bookId": "123", "type": "epub"}'
`;

/** The timer service's "Create Timer" request (its Postman collection): `POST localhost:3000/api/v1/timer`. */
export const CREATE_TIMER_BODY =
  '{\n    "webhookUrl": "http://www.localhost:3000/v1/health",\n    "hours": 1,\n    "minutes": 2,\n    "seconds": 0\n}';
