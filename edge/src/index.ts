import { DurableObject } from "cloudflare:workers";
export class PipelineDO extends DurableObject {}
export class SchedulerDO extends DurableObject {}
export class AgentDO extends DurableObject {}
export default { fetch() { return new Response("x"); } };
