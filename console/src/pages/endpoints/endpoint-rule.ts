/** A custom API endpoint rule as GET /api/v1/endpoint returns it (PSU's New-PSUEndpoint fields). */
export interface EndpointRule {
  id: number;
  url: string;
  /** ["*"]: any method. */
  method: string[];
  authentication: boolean;
  role: string[];
}

/** The methods a rule may name (the server's HTTP_METHODS). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const anyMethod = (rule: Pick<EndpointRule, 'method'>): boolean => rule.method.length === 0 || rule.method.includes('*');

export const ENDPOINTS_KEY = ['endpoint'] as const;
