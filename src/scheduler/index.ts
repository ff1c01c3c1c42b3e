export { schedulerRoutes } from "./scheduler.routes.ts";
export {
  createScheduler,
  retryDelay,
  type Scheduler,
  type TaskDefinition,
  type TaskRun,
  type TaskRunContext,
  type TaskStatus,
  type TaskSummary,
} from "./scheduler.service.ts";
