/**
 * The readable API documentation (served at /api-docs): Swagger UI, bundled from the npm
 * registry into this build, over the server's own /openapi.json. Nothing is loaded from
 * elsewhere (the server's Content-Security-Policy for this page enforces it).
 *
 * Token mode: "Authorize" takes a bearer token; a browser signed in to the app (its tokens in
 * localStorage, auth/tokens.ts) is authorized with its access token at once.
 */
import "swagger-ui-dist/swagger-ui.css";
import SwaggerUIBundle, {
	type SwaggerUI,
} from "swagger-ui-dist/swagger-ui-es-bundle.js";
import { loadTokens } from "../auth/tokens";

/** The name of the bearer scheme in the server's description (collab/api/openapi.py). */
export const BEARER_SCHEME = "bearer";

function authorizeFromApp(ui: SwaggerUI): void {
	const tokens = loadTokens();
	if (tokens && tokens.expiresAt > Date.now())
		ui.preauthorizeApiKey(BEARER_SCHEME, tokens.accessToken);
}

const ui: SwaggerUI = SwaggerUIBundle({
	url: "/openapi.json",
	dom_id: "#swagger-ui",
	validatorUrl: null,
	deepLinking: true,
	displayRequestDuration: true,
	docExpansion: "list",
	onComplete: () => authorizeFromApp(ui),
});
