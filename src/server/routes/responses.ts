// Response schemas shared by the routes, so the OpenAPI document lists every error a route can give.
import { z } from "zod";
import { ErrorBody } from "../../contracts/common.ts";

export const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
