/**
 * The part of swagger-ui-dist's bundle (a CommonJS build of Swagger UI with its own React) that
 * the API docs page uses; the package ships no types.
 */
declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
	export interface SwaggerUIOptions {
		/** the OpenAPI document to show */
		url: string;
		/** CSS selector of the element Swagger UI renders into */
		dom_id: string;
		/** null: no badge from an online validator (it would call validator.swagger.io) */
		validatorUrl: string | null;
		deepLinking?: boolean;
		persistAuthorization?: boolean;
		displayRequestDuration?: boolean;
		docExpansion?: "list" | "full" | "none";
		/** called once the document is loaded and rendered */
		onComplete?: () => void;
	}

	export interface SwaggerUI {
		/** fill in a security scheme's value, as the Authorize dialog would */
		preauthorizeApiKey(scheme: string, value: string): void;
	}

	const SwaggerUIBundle: (options: SwaggerUIOptions) => SwaggerUI;
	export default SwaggerUIBundle;
}
