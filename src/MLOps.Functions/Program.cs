using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MLOps.Infrastructure;
using MLOps.Lifecycle;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddMLOpsInfrastructure(builder.Configuration);
builder.Services.AddMLOpsLifecycle(builder.Configuration);
builder.Services.AddHostedService<MLOps.Functions.WorkflowBootstrapper>();
builder.Build().Run();
