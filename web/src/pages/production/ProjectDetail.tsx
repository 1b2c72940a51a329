// PLACEHOLDER page: production/ProjectDetail
import { Card } from "../../ui";

export default function ProjectDetail() {
  return <Card><h1>ProjectDetail</h1></Card>;
}
