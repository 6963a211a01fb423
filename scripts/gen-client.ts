// `npm run gen:client`: writes src/client/api-types.ts from the current OpenAPI document.
import { writeFile } from 'node:fs/promises';
import { CLIENT_TYPES_PATH, clientTypes, currentOpenApiDocument } from './client-types.ts';

await writeFile(CLIENT_TYPES_PATH, await clientTypes(await currentOpenApiDocument()));
console.log(`wrote ${CLIENT_TYPES_PATH}`);
