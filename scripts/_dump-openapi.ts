import { openApiDocument } from '../api/openapi-document';
void openApiDocument().then((d) => {
  process.stdout.write(JSON.stringify(d));
  process.exit(0);
});
